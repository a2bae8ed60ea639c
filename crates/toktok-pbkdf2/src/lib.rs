//! PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) for toktok's password hashes, from
//! the RustCrypto `pbkdf2` crate over `sha2`.
//!
//! Why a crate of its own: [`pbkdf2::pbkdf2_hmac`] is generic, so it is
//! compiled in the crate that names its type parameter, at that crate's
//! optimisation level. Named here, behind the non-generic [`derive`], it is
//! built at this package's level, which toktok's Cargo.toml keeps at 3 in
//! debug builds too: a debug toktok (tests, `cargo run`) hashes at release
//! speed instead of about 30 times slower. toktok's own tests check it
//! (RFC 7914 vectors, against ring, and hashes stored by earlier versions).

#![forbid(unsafe_code)]

/// Fills `out` with PBKDF2-HMAC-SHA256 of `password` and `salt` at
/// `rounds` iterations. Cannot fail or panic for an `out` of up to 64
/// bytes (the PHC output limit, all toktok asks for); `rounds = 0`
/// behaves as 1 (callers refuse 0 before).
// Inline in release builds only: there toktok compiles it into its own
// code, optimised like the rest (a few per cent faster in hash_time than
// a call into this crate); in debug builds an inline function would be
// compiled into toktok at opt-level 0 too, which is what this crate avoids.
#[cfg_attr(not(debug_assertions), inline)]
pub fn derive(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds.max(1), out);
}
