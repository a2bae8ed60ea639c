//! SHA-256 in hex: the one digest toktok keeps secrets it must recognise
//! by (refresh tokens, API keys, throttled addresses), shared by `auth` and
//! the store.

/// SHA-256 in lowercase hex: how toktok keeps token secrets it must
/// recognise but never reveal (refresh token ids, API keys).
pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

/// [`sha256_hex`] of bytes that need not be text.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    // A table, not `write!("{:02x}")`: formatting cost three times the
    // digest itself, on every API-key check and refresh (issue 8).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = String::with_capacity(64);
    for byte in digest.as_ref() {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// SHA-256 in unpadded base64url: a PKCE `S256` code challenge (RFC 7636
/// §4.2), whichever side of the exchange toktok is on.
pub fn sha256_b64url(text: &str) -> String {
    use base64::Engine as _;
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}
