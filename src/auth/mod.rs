//! Credentials: JWTs and their keys, password hashing, the RSA keys that
//! decrypt JWE request bodies (`jwe`), and the policies around them. Free
//! of HTTP.

pub mod api_keys;
pub mod foreign;
#[cfg(test)]
pub(crate) mod hostile;
pub mod jwe;
pub mod jwt;
pub mod password;
mod pool;
pub mod rotation;
pub mod webauthn;

pub use crate::domain::digest::sha256_hex;

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
