//! Credentials: JWTs and their keys, password hashing, the RSA keys that
//! decrypt JWE request bodies (`jwe`), and the policies around them. Free
//! of HTTP.

pub mod api_keys;
#[cfg(test)]
pub(crate) mod hostile;
pub mod jwe;
pub mod jwt;
pub mod password;
mod pool;
pub mod rotation;

/// SHA-256 in lowercase hex: how toktok keeps token secrets it must
/// recognise but never reveal (refresh token ids, API keys).
pub fn sha256_hex(text: &str) -> String {
    // A table, not `write!("{:02x}")`: formatting cost three times the
    // digest itself, on every API-key check and refresh (issue 8).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest.as_ref() {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_hex_matches_a_known_vector() {
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
