//! Password hashes made by other systems (docs/import.md): recognised when
//! users are imported with them, checked at their next sign-in, after
//! which the login replaces them with a hash of toktok's configured
//! algorithm (`Verification::needs_rehash`).
//!
//! One parser, [`parse`], serves both moments: the import asks it whether
//! a string is a hash toktok can check ([`inspect`], which also flags
//! costs too cheap to be safe), and the sign-in asks it for the parameters
//! to check a password with ([`verify`]). Every format is checked by a
//! maintained crate — `bcrypt`, `argon2`, `scrypt`, `sha-crypt`, and ring's
//! PBKDF2 — except Firebase's modified scrypt (`firebase.rs`), which has
//! none in Rust and is written from Firebase's published description.
//! Every comparison is in constant time (the crates', ring's
//! `pbkdf2::verify`, or aws-lc-rs's `verify_slices_are_equal`).
//!
//! Stored strings are untrusted: costs above the caps below are refused at
//! import and fail at sign-in, so a row cannot pin a core or allocate
//! gigabytes.

mod firebase;
#[cfg(test)]
mod tests;

use std::num::NonZeroU32;

use argon2::password_hash::PasswordHash;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

pub use firebase::FirebaseKeys;

use super::password::MAX_PBKDF2_ITERATIONS;

/// Highest bcrypt cost accepted (2^16 rounds: about 4 s of CPU).
const MAX_BCRYPT_COST: u32 = 16;
/// Highest SHA-crypt rounds accepted (about 2 s of CPU for `$6$`).
const MAX_SHA_CRYPT_ROUNDS: usize = 5_000_000;
/// Largest scrypt working memory accepted (128 · r · N bytes), as for
/// Argon2 in `password.rs`.
const MAX_SCRYPT_BYTES: u64 = 256 << 20;
const MAX_SCRYPT_P: u32 = 16;

/// Below these a hash is still imported, but reported as too cheap
/// (`warnings` in the import report).
const WEAK_BCRYPT_COST: u32 = 8;
const WEAK_PBKDF2_ITERATIONS: u32 = 10_000;
const WEAK_SHA_CRYPT_ROUNDS: usize = 5_000;
/// 16 MiB: scrypt's classic interactive setting (N = 2^14, r = 8).
const WEAK_SCRYPT_BYTES: u64 = 16 << 20;
/// Memory × passes of OWASP's cheapest Argon2id setting (m = 7 MiB, t = 5).
const WEAK_ARGON2_KIB_PASSES: u64 = 7_168 * 5;

/// Base64 with `+` and `/`, padding optional: PHC strings leave it out,
/// Django and Firebase write it.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The hash function under a PBKDF2 hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    Sha1,
    Sha256,
    Sha512,
}

impl Digest {
    fn ring(self) -> ring::pbkdf2::Algorithm {
        match self {
            Digest::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
            Digest::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Digest::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
}

/// A foreign hash, parsed and within the caps.
#[derive(Debug, PartialEq, Eq)]
enum Scheme<'a> {
    /// `$2a$`/`$2b$`/`$2y$`; Django's `bcrypt$` and `bcrypt_sha256$` (the
    /// latter hashes the hex SHA-256 of the password).
    Bcrypt {
        hash: &'a str,
        cost: u32,
        sha256_first: bool,
    },
    /// PHC `$argon2i$`, `$argon2d$`, `$argon2id$`; Django's `argon2$…`.
    Argon2 { phc: &'a str, kib_passes: u64 },
    /// PHC (`$pbkdf2[-sha256|-sha512]$i=…`), passlib (`$pbkdf2-sha256$29000$…`)
    /// and Django (`pbkdf2_sha256$…`, `pbkdf2_sha1$…`).
    Pbkdf2 {
        digest: Digest,
        iterations: NonZeroU32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// PHC `$scrypt$ln=…,r=…,p=…$salt$hash` and Django's `scrypt$…`.
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// `$5$` (SHA-256) and `$6$` (SHA-512) crypt.
    ShaCrypt {
        sha512: bool,
        rounds: usize,
        salt: &'a str,
        hash: &'a str,
    },
    /// `$firebase-scrypt$<salt>$<hash>` with the project's keys from
    /// `[import.firebase]`.
    Firebase { salt: Vec<u8>, hash: Vec<u8> },
}

/// Why a string is not a hash toktok can check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// No format toktok knows starts like this.
    #[error("not a hash format toktok knows (docs/import.md lists them)")]
    Unknown,
    /// A known format, but not well formed (the text says what is wrong).
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A known format whose cost is above toktok's cap.
    #[error("{0}")]
    TooCostly(String),
    /// A Firebase hash, but `[import.firebase]` is not configured.
    #[error("a Firebase scrypt hash needs the project's [import.firebase] keys")]
    FirebaseNotConfigured,
}

impl Rejected {
    /// The short code the import report gives as `reason`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejected::Unknown => "unknown_hash_format",
            Rejected::Malformed(_) => "invalid_hash",
            Rejected::TooCostly(_) => "hash_too_costly",
            Rejected::FirebaseNotConfigured => "firebase_not_configured",
        }
    }
}

/// What the import learns about a hash it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// The format's name, e.g. "bcrypt", "pbkdf2-sha1", "firebase-scrypt".
    pub format: &'static str,
    /// Set when the cost is too cheap to be safe: says which and why.
    pub weak: Option<String>,
}

/// Whether `stored` is one of toktok's own formats (`$pbkdf2-sha256$i=…`,
/// `$argon2id$…`), which `password.rs` checks itself.
pub fn is_own(stored: &str) -> bool {
    stored.starts_with("$pbkdf2-sha256$i=") || stored.starts_with("$argon2id$")
}

/// Checks that `stored` is a foreign hash toktok can verify, for the
/// import. toktok's own formats are foreign-free and answered here too, so
/// an export from one toktok imports into another.
pub fn inspect(stored: &str, firebase: Option<&FirebaseKeys>) -> Result<Inspected, Rejected> {
    let scheme = parse(stored)?;
    if matches!(scheme, Scheme::Firebase { .. }) && firebase.is_none() {
        return Err(Rejected::FirebaseNotConfigured);
    }
    Ok(describe(&scheme, firebase))
}

/// Checks `password` (as typed, UTF-8) against a foreign `stored` hash.
/// Anything malformed, too costly or unknown, and a Firebase hash without
/// keys, is `false`.
pub fn verify(stored: &str, password: &[u8], firebase: Option<&FirebaseKeys>) -> bool {
    match parse(stored) {
        Ok(scheme) => check(&scheme, password, firebase),
        Err(_) => false,
    }
}

fn describe(scheme: &Scheme<'_>, firebase: Option<&FirebaseKeys>) -> Inspected {
    let (format, weak) = match scheme {
        Scheme::Bcrypt { cost, .. } => (
            "bcrypt",
            (*cost < WEAK_BCRYPT_COST).then(|| format!("bcrypt cost {cost} < {WEAK_BCRYPT_COST}")),
        ),
        Scheme::Argon2 { kib_passes, .. } => (
            "argon2",
            (*kib_passes < WEAK_ARGON2_KIB_PASSES).then(|| {
                format!("argon2 memory × passes {kib_passes} KiB < {WEAK_ARGON2_KIB_PASSES} KiB")
            }),
        ),
        Scheme::Pbkdf2 {
            digest, iterations, ..
        } => (
            match digest {
                Digest::Sha1 => "pbkdf2-sha1",
                Digest::Sha256 => "pbkdf2-sha256",
                Digest::Sha512 => "pbkdf2-sha512",
            },
            (iterations.get() < WEAK_PBKDF2_ITERATIONS)
                .then(|| format!("pbkdf2 iterations {iterations} < {WEAK_PBKDF2_ITERATIONS}")),
        ),
        Scheme::Scrypt { log_n, r, .. } => (
            "scrypt",
            (scrypt_bytes(*log_n, *r) < WEAK_SCRYPT_BYTES)
                .then(|| format!("scrypt memory (N = 2^{log_n}, r = {r}) < 16 MiB")),
        ),
        Scheme::ShaCrypt { sha512, rounds, .. } => (
            if *sha512 {
                "sha512-crypt"
            } else {
                "sha256-crypt"
            },
            (*rounds < WEAK_SHA_CRYPT_ROUNDS)
                .then(|| format!("sha-crypt rounds {rounds} < {WEAK_SHA_CRYPT_ROUNDS}")),
        ),
        Scheme::Firebase { .. } => ("firebase-scrypt", firebase.and_then(FirebaseKeys::weak)),
    };
    Inspected { format, weak }
}

/// Recognises a foreign format by its prefix and parses it whole.
fn parse(stored: &str) -> Result<Scheme<'_>, Rejected> {
    if let Some(rest) = stored.strip_prefix("bcrypt_sha256$") {
        return parse_bcrypt(rest, true);
    }
    if let Some(rest) = stored.strip_prefix("bcrypt$") {
        return parse_bcrypt(rest, false);
    }
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        if stored.starts_with(prefix) {
            return parse_bcrypt(stored, false);
        }
    }
    if let Some(phc) = stored.strip_prefix("argon2") {
        if phc.starts_with("$argon2") {
            return parse_argon2(phc);
        }
    }
    for prefix in ["$argon2i$", "$argon2d$", "$argon2id$"] {
        if stored.starts_with(prefix) {
            return parse_argon2(stored);
        }
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        return parse_pbkdf2_django(rest, Digest::Sha256);
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha1$") {
        return parse_pbkdf2_django(rest, Digest::Sha1);
    }
    for (prefix, digest) in [
        ("$pbkdf2-sha512$", Digest::Sha512),
        ("$pbkdf2-sha256$", Digest::Sha256),
        ("$pbkdf2$", Digest::Sha1),
    ] {
        if let Some(rest) = stored.strip_prefix(prefix) {
            return if rest.starts_with("i=") {
                parse_pbkdf2_phc(stored, digest)
            } else {
                parse_pbkdf2_passlib(rest, digest)
            };
        }
    }
    if stored.starts_with("$scrypt$") {
        return parse_scrypt_phc(stored);
    }
    if let Some(rest) = stored.strip_prefix("scrypt$") {
        return parse_scrypt_django(rest);
    }
    if let Some(rest) = stored.strip_prefix("$5$") {
        return parse_sha_crypt(rest, false);
    }
    if let Some(rest) = stored.strip_prefix("$6$") {
        return parse_sha_crypt(rest, true);
    }
    if let Some(rest) = stored.strip_prefix("$firebase-scrypt$") {
        return firebase::parse(rest).map(|(salt, hash)| Scheme::Firebase { salt, hash });
    }
    Err(Rejected::Unknown)
}

fn parse_bcrypt(hash: &str, sha256_first: bool) -> Result<Scheme<'_>, Rejected> {
    let parts: bcrypt::HashParts = hash
        .parse()
        .map_err(|_| Rejected::Malformed("bcrypt hash"))?;
    // The crate parses `$2x$` too (a broken variant's marker): not offered.
    if !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) {
        return Err(Rejected::Malformed("bcrypt hash"));
    }
    let cost = parts.get_cost();
    if cost > MAX_BCRYPT_COST {
        return Err(Rejected::TooCostly(format!(
            "bcrypt cost {cost} > {MAX_BCRYPT_COST}"
        )));
    }
    Ok(Scheme::Bcrypt {
        hash,
        cost,
        sha256_first,
    })
}

fn parse_argon2(phc: &str) -> Result<Scheme<'_>, Rejected> {
    let malformed = Rejected::Malformed("argon2 hash");
    let parsed = PasswordHash::new(phc).map_err(|_| malformed.clone())?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err(malformed);
    }
    let params = argon2::Params::try_from(&parsed).map_err(|_| malformed.clone())?;
    argon2::Algorithm::try_from(parsed.algorithm).map_err(|_| malformed)?;
    super::password::argon2_within_caps(&params)?;
    Ok(Scheme::Argon2 {
        phc,
        kib_passes: u64::from(params.m_cost()) * u64::from(params.t_cost()),
    })
}

fn iterations(text: &str) -> Result<NonZeroU32, Rejected> {
    let n: u32 = decimal(text).ok_or(Rejected::Malformed("pbkdf2 iteration count"))?;
    let n = NonZeroU32::new(n).ok_or(Rejected::Malformed("pbkdf2 iteration count"))?;
    if n.get() > MAX_PBKDF2_ITERATIONS {
        return Err(Rejected::TooCostly(format!(
            "pbkdf2 iterations {n} > {MAX_PBKDF2_ITERATIONS}"
        )));
    }
    Ok(n)
}

/// A decimal number without sign, spaces or leading `+`.
fn decimal<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn b64(text: &str, what: &'static str) -> Result<Vec<u8>, Rejected> {
    B64.decode(text).map_err(|_| Rejected::Malformed(what))
}

/// Salt and derived key of a PBKDF2 hash: each non-empty, the key at most
/// 64 bytes (what every format writes).
fn pbkdf2_scheme(
    digest: Digest,
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
) -> Result<Scheme<'static>, Rejected> {
    if salt.is_empty() || salt.len() > 1024 || !(10..=64).contains(&hash.len()) {
        return Err(Rejected::Malformed("pbkdf2 salt or hash length"));
    }
    Ok(Scheme::Pbkdf2 {
        digest,
        iterations,
        salt,
        hash,
    })
}

/// `$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>` (RustCrypto, toktok).
fn parse_pbkdf2_phc(stored: &str, digest: Digest) -> Result<Scheme<'static>, Rejected> {
    let malformed = Rejected::Malformed("pbkdf2 PHC string");
    let parsed = PasswordHash::new(stored).map_err(|_| malformed.clone())?;
    if parsed.version.is_some() {
        return Err(malformed);
    }
    let (mut rounds, mut length) = (None, None);
    for (ident, value) in parsed.params.iter() {
        match ident.as_str() {
            "i" if rounds.is_none() => rounds = Some(iterations(value.as_str())?),
            "l" if length.is_none() => length = Some(decimal::<usize>(value.as_str())),
            _ => return Err(malformed),
        }
    }
    let (Some(rounds), Some(salt), Some(hash)) = (rounds, parsed.salt, parsed.hash) else {
        return Err(malformed);
    };
    let salt = b64(salt.as_str(), "pbkdf2 salt")?;
    if length.is_some_and(|l| l != Some(hash.len())) {
        return Err(malformed);
    }
    pbkdf2_scheme(digest, rounds, salt, hash.as_bytes().to_vec())
}

/// passlib: `$pbkdf2-sha256$29000$<salt>$<hash>`, base64 with `.` for `+`.
fn parse_pbkdf2_passlib(rest: &str, digest: Digest) -> Result<Scheme<'static>, Rejected> {
    let fields: Vec<&str> = rest.split('$').collect();
    let [rounds, salt, hash] = fields[..] else {
        return Err(Rejected::Malformed("passlib pbkdf2 hash"));
    };
    let ab64 = |text: &str, what| b64(&text.replace('.', "+"), what);
    pbkdf2_scheme(
        digest,
        iterations(rounds)?,
        ab64(salt, "pbkdf2 salt")?,
        ab64(hash, "pbkdf2 hash")?,
    )
}

/// Django: `pbkdf2_sha256$<iterations>$<salt as text>$<base64 hash>`.
fn parse_pbkdf2_django(rest: &str, digest: Digest) -> Result<Scheme<'static>, Rejected> {
    let fields: Vec<&str> = rest.split('$').collect();
    let [rounds, salt, hash] = fields[..] else {
        return Err(Rejected::Malformed("Django pbkdf2 hash"));
    };
    pbkdf2_scheme(
        digest,
        iterations(rounds)?,
        salt.as_bytes().to_vec(),
        b64(hash, "pbkdf2 hash")?,
    )
}

fn scrypt_bytes(log_n: u8, r: u32) -> u64 {
    128u64
        .saturating_mul(u64::from(r))
        .saturating_mul(1u64.checked_shl(u32::from(log_n)).unwrap_or(u64::MAX))
}

fn scrypt_scheme(
    log_n: u8,
    r: u32,
    p: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
) -> Result<Scheme<'static>, Rejected> {
    if log_n == 0 || log_n > 24 || r == 0 || p == 0 || scrypt::Params::new(log_n, r, p).is_err() {
        return Err(Rejected::Malformed("scrypt parameters"));
    }
    if scrypt_bytes(log_n, r) > MAX_SCRYPT_BYTES || p > MAX_SCRYPT_P {
        return Err(Rejected::TooCostly(format!(
            "scrypt N = 2^{log_n}, r = {r}, p = {p} needs more than 256 MiB or 16 lanes"
        )));
    }
    if salt.is_empty() || salt.len() > 1024 || !(10..=128).contains(&hash.len()) {
        return Err(Rejected::Malformed("scrypt salt or hash length"));
    }
    Ok(Scheme::Scrypt {
        log_n,
        r,
        p,
        salt,
        hash,
    })
}

/// `$scrypt$ln=16,r=8,p=1$<salt>$<hash>` (passlib, RustCrypto).
fn parse_scrypt_phc(stored: &str) -> Result<Scheme<'static>, Rejected> {
    let malformed = Rejected::Malformed("scrypt PHC string");
    let parsed = PasswordHash::new(stored).map_err(|_| malformed.clone())?;
    let (mut ln, mut r, mut p) = (None, None, None);
    for (ident, value) in parsed.params.iter() {
        let n = decimal::<u32>(value.as_str()).ok_or(malformed.clone())?;
        match ident.as_str() {
            "ln" if ln.is_none() => ln = Some(n),
            "r" if r.is_none() => r = Some(n),
            "p" if p.is_none() => p = Some(n),
            _ => return Err(malformed),
        }
    }
    let (Some(ln), Some(r), Some(p), Some(salt), Some(hash)) = (ln, r, p, parsed.salt, parsed.hash)
    else {
        return Err(malformed);
    };
    let log_n = u8::try_from(ln).map_err(|_| malformed)?;
    let salt = b64(salt.as_str(), "scrypt salt")?;
    scrypt_scheme(log_n, r, p, salt, hash.as_bytes().to_vec())
}

/// Django: `scrypt$<N>$<salt as text>$<r>$<p>$<base64 hash>`.
fn parse_scrypt_django(rest: &str) -> Result<Scheme<'static>, Rejected> {
    let malformed = Rejected::Malformed("Django scrypt hash");
    let fields: Vec<&str> = rest.split('$').collect();
    let [n, salt, r, p, hash] = fields[..] else {
        return Err(malformed);
    };
    let n: u64 = decimal(n).ok_or(malformed.clone())?;
    if !n.is_power_of_two() {
        return Err(malformed);
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| malformed.clone())?;
    let r = decimal(r).ok_or(malformed.clone())?;
    let p = decimal(p).ok_or(malformed)?;
    scrypt_scheme(
        log_n,
        r,
        p,
        salt.as_bytes().to_vec(),
        b64(hash, "scrypt hash")?,
    )
}

/// `[rounds=N$]<salt>$<hash>` after `$5$` / `$6$` (Drepper's SHA-crypt).
fn parse_sha_crypt(rest: &str, sha512: bool) -> Result<Scheme<'_>, Rejected> {
    let malformed = Rejected::Malformed("sha-crypt hash");
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(rest) => {
            let (n, rest) = rest.split_once('$').ok_or(malformed.clone())?;
            let n: usize = decimal(n).ok_or(malformed.clone())?;
            // The specification raises a smaller count to 1,000.
            (n.max(sha_crypt::ROUNDS_MIN), rest)
        }
        None => (sha_crypt::ROUNDS_DEFAULT, rest),
    };
    if rounds > MAX_SHA_CRYPT_ROUNDS {
        return Err(Rejected::TooCostly(format!(
            "sha-crypt rounds {rounds} > {MAX_SHA_CRYPT_ROUNDS}"
        )));
    }
    let (salt, hash) = rest.split_once('$').ok_or(malformed.clone())?;
    let crypt64 = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
    };
    let hash_len = if sha512 { 86 } else { 43 };
    if salt.len() > 16 || !crypt64(hash) || hash.len() != hash_len || salt.contains('$') {
        return Err(malformed);
    }
    Ok(Scheme::ShaCrypt {
        sha512,
        rounds,
        salt,
        hash,
    })
}

/// Checks `password` against a parsed hash, in constant time.
fn check(scheme: &Scheme<'_>, password: &[u8], firebase: Option<&FirebaseKeys>) -> bool {
    match scheme {
        Scheme::Bcrypt {
            hash, sha256_first, ..
        } => {
            if *sha256_first {
                let hex = crate::domain::digest::sha256_hex_bytes(password);
                bcrypt::verify(hex.as_bytes(), hash).unwrap_or(false)
            } else {
                // Truncates at 72 bytes, as the systems that made it did.
                bcrypt::verify(password, hash).unwrap_or(false)
            }
        }
        Scheme::Argon2 { phc, .. } => super::password::argon2_matches(phc, password),
        Scheme::Pbkdf2 {
            digest,
            iterations,
            salt,
            hash,
        } => ring::pbkdf2::verify(digest.ring(), *iterations, salt, password, hash).is_ok(),
        Scheme::Scrypt {
            log_n,
            r,
            p,
            salt,
            hash,
        } => {
            let Ok(params) = scrypt::Params::new(*log_n, *r, *p) else {
                return false;
            };
            let mut out = vec![0u8; hash.len()];
            scrypt::scrypt(password, salt, &params, &mut out).is_ok()
                && verify_slices_are_equal(&out, hash).is_ok()
        }
        Scheme::ShaCrypt {
            sha512,
            rounds,
            salt,
            hash,
        } => {
            let ours = if *sha512 {
                sha_crypt::Sha512Params::new(*rounds)
                    .ok()
                    .and_then(|p| sha_crypt::sha512_crypt_b64(password, salt.as_bytes(), &p).ok())
            } else {
                sha_crypt::Sha256Params::new(*rounds)
                    .ok()
                    .and_then(|p| sha_crypt::sha256_crypt_b64(password, salt.as_bytes(), &p).ok())
            };
            ours.is_some_and(|ours| {
                verify_slices_are_equal(ours.as_bytes(), hash.as_bytes()).is_ok()
            })
        }
        Scheme::Firebase { salt, hash } => {
            firebase.is_some_and(|keys| keys.verify(password, salt, hash))
        }
    }
}
