//! Password hashing and verification (docs/SECURITY.md P1, P7, P8, L2).
//!
//! Owns three things:
//!
//! * [`hash_password`] / [`verify_password`]: the blocking primitives. Hashes
//!   are self-describing PHC strings, so the algorithm and its cost live next
//!   to each hash and can be raised later: verification reads the parameters
//!   from the stored string, and reports `needs_rehash` when they are weaker
//!   than the configured ones so the caller can upgrade the hash at the next
//!   successful login. The default is PBKDF2-HMAC-SHA256 with 600,000
//!   iterations (OWASP Password Storage cheat sheet); Argon2id (m=19456 KiB,
//!   t=2, p=1) is the alternative. Passwords are NFKC-normalised first, the
//!   same way [`crate::domain::password::PasswordPolicy`] measures them.
//!   Stored strings are treated as untrusted input: anything malformed, of
//!   an unknown algorithm or with absurd costs verifies as `ok = false`
//!   quickly, without panicking.
//!
//! * [`HashPool`]: how the async server runs them. A hash costs tens to
//!   hundreds of milliseconds of CPU, which would stall a runtime worker, and
//!   a login flood would starve every other endpoint. So hashing runs on
//!   tokio's blocking pool behind a semaphore with as many permits as cores,
//!   and the queue in front of it is bounded: past `max_waiting` waiting
//!   callers the pool refuses at once with [`Overloaded`] (the HTTP layer
//!   answers 503 with Retry-After) instead of letting latency grow without
//!   limit.
//!
//! * The dummy hash (L2): the pool holds a PHC string of the configured
//!   algorithm and parameters with a random salt and a random output (which
//!   no password matches), and `verify(None, ..)` checks against it, so a
//!   login for an unknown email costs the same as one for a known email with
//!   a wrong password. It is assembled, not hashed: a hash at start-up would
//!   put one full hash's time (125 ms at the default cost) before `/ready`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

use super::foreign;
use super::pool::{BlockingPool, RunError};
use crate::domain::password::normalize;

/// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;
/// Highest iteration count accepted, in configuration or in a stored hash
/// (about 17 times the default cost, a few seconds of CPU). A stored string
/// claiming more is treated as malformed, so a corrupted row cannot pin a
/// core for minutes.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// PHC identifier of PBKDF2-HMAC-SHA256 (as used by the RustCrypto `pbkdf2`
/// crate and passlib's PHC form).
const PBKDF2_SHA256_ID: &str = "pbkdf2-sha256";
const ARGON2ID_ID: &str = "argon2id";
const SALT_LEN: usize = 16;
/// Output length of new PBKDF2 hashes: one SHA-256 block, since more output
/// would only cost the defender extra blocks.
const PBKDF2_OUTPUT_LEN: usize = 32;

/// Argon2id parameters of new hashes (OWASP: m=19 MiB, t=2, p=1).
const ARGON2_M_KIB: u32 = 19_456;
const ARGON2_T: u32 = 2;
const ARGON2_P: u32 = 1;
const ARGON2_OUTPUT_LEN: usize = 32;
/// Caps on parameters read from a stored Argon2 hash, for the same reason as
/// [`MAX_PBKDF2_ITERATIONS`]: memory is allocated as the string says.
const MAX_ARGON2_M_KIB: u32 = 262_144; // 256 MiB
const MAX_ARGON2_T: u32 = 16;
const MAX_ARGON2_P: u32 = 16;

/// How new passwords are hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// PBKDF2-HMAC-SHA256 with this many iterations (1..=10,000,000).
    Pbkdf2Sha256 { iterations: u32 },
    /// Argon2id, m=19456 KiB, t=2, p=1.
    Argon2id,
}

impl Default for HashAlgorithm {
    fn default() -> Self {
        HashAlgorithm::Pbkdf2Sha256 {
            iterations: DEFAULT_PBKDF2_ITERATIONS,
        }
    }
}

/// Result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The password matches.
    pub ok: bool,
    /// The password matches but the hash is weaker than what is configured
    /// now: store a fresh hash of the password (P1).
    pub needs_rehash: bool,
}

impl Verification {
    const FAILED: Verification = Verification {
        ok: false,
        needs_rehash: false,
    };
}

/// Too many callers are already waiting for the hashing pool.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing is overloaded")]
pub struct Overloaded;

/// Why no hash was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// Too many callers are already waiting: answer 503 with Retry-After.
    #[error("password hashing is overloaded")]
    Overloaded,
    /// The OS random generator failed, the configured parameters are out of
    /// range, or the hashing task panicked. The cause is logged.
    #[error("password hashing failed")]
    Failed,
}

impl From<Overloaded> for HashError {
    fn from(_: Overloaded) -> Self {
        HashError::Overloaded
    }
}

/// Blocking. NFKC-normalises, 16-byte salt from ring SystemRandom. PHC strings:
/// `$pbkdf2-sha256$i=600000,l=32$<salt b64 no pad>$<hash b64 no pad>` (standard
/// base64 alphabet, no padding, per the PHC string format spec);
/// argon2id: the argon2 crate's PHC `$argon2id$v=19$m=19456,t=2,p=1$..$..`.
///
/// Fails only if the OS random generator fails or `alg` has an iteration
/// count outside 1..=[`MAX_PBKDF2_ITERATIONS`].
pub fn hash_password(alg: HashAlgorithm, password: &str) -> Result<String, HashError> {
    let password = normalize(password);
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new().fill(&mut salt).map_err(|_| {
        tracing::error!("the OS random generator failed while salting a password hash");
        HashError::Failed
    })?;
    match alg {
        HashAlgorithm::Pbkdf2Sha256 { iterations } => {
            let Some(rounds) =
                NonZeroU32::new(iterations).filter(|i| i.get() <= MAX_PBKDF2_ITERATIONS)
            else {
                tracing::error!(iterations, "PBKDF2 iteration count out of range");
                return Err(HashError::Failed);
            };
            let mut out = [0u8; PBKDF2_OUTPUT_LEN];
            pbkdf2_sha256(password.as_bytes(), &salt, rounds, &mut out);
            Ok(format!(
                "${PBKDF2_SHA256_ID}$i={iterations},l={PBKDF2_OUTPUT_LEN}${}${}",
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(out),
            ))
        }
        HashAlgorithm::Argon2id => {
            let hashed = SaltString::encode_b64(&salt).and_then(|salt| {
                let argon2 = argon2id()?;
                argon2
                    .hash_password(password.as_bytes(), &salt)
                    .map(|h| h.to_string())
            });
            hashed.map_err(|e| {
                tracing::error!(error = %e, "Argon2id hashing failed");
                HashError::Failed
            })
        }
    }
}

/// Blocking. Constant-time comparison. needs_rehash when ok and the stored
/// algorithm differs from `current` or its parameters are weaker (fewer pbkdf2
/// iterations, shorter salt or output; different argon2 params). A
/// malformed/unknown PHC string → ok=false (never panic). Foreign formats
/// (`super::foreign`) are checked too, except Firebase's, which needs the
/// project's keys ([`verify_stored`]).
#[cfg(any(test, feature = "testing"))]
pub fn verify_password(phc: &str, password: &str, current: HashAlgorithm) -> Verification {
    verify_stored(phc, password, current, None)
}

/// [`verify_password`] for any hash toktok stores: its own formats and the
/// foreign ones an import brings (`super::foreign`; a Firebase hash needs
/// `firebase`). A foreign hash that matches always `needs_rehash`.
///
/// toktok hashes the NFKC form of a password (P7); other systems hashed it
/// as typed. So the form the hash was most likely made from is tried
/// first, and the other one only when NFKC changes the password (never for
/// ASCII): a password typed in another normal form still signs in.
pub fn verify_stored(
    stored: &str,
    password: &str,
    current: HashAlgorithm,
    firebase: Option<&foreign::FirebaseKeys>,
) -> Verification {
    let normalized = normalize(password);
    let other_form = (normalized != password).then_some(password);
    if foreign::is_own(stored) {
        let first = verify_own(stored, normalized.as_bytes(), current);
        return match other_form {
            Some(raw) if !first.ok => {
                let ok = verify_own(stored, raw.as_bytes(), current).ok;
                Verification {
                    ok,
                    needs_rehash: ok,
                }
            }
            _ => first,
        };
    }
    let ok = foreign::verify(stored, password.as_bytes(), firebase)
        || (other_form.is_some() && foreign::verify(stored, normalized.as_bytes(), firebase));
    Verification {
        ok,
        needs_rehash: ok,
    }
}

/// One of toktok's own formats, against the password as given.
fn verify_own(phc: &str, password: &[u8], current: HashAlgorithm) -> Verification {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verification::FAILED;
    };
    match parsed.algorithm.as_str() {
        PBKDF2_SHA256_ID => verify_pbkdf2(&parsed, password, current),
        ARGON2ID_ID => verify_argon2id(&parsed, password, current),
        _ => Verification::FAILED,
    }
}

/// The raw PBKDF2-HMAC-SHA256 function (RFC 8018 §5.2): `toktok_pbkdf2`,
/// RustCrypto's `sha2` and `hmac` with the iterations specialised, compiled
/// at opt-level 3 even in debug builds. `sha2` picks the CPU's SHA
/// extensions at run time (x86-64 SHA-NI; on aarch64 through its `asm`
/// feature), and the specialised iterations take a fifth less time than
/// the `pbkdf2` crate's generic ones, the fastest of the others measured
/// (BENCHMARKS.md "PBKDF2 implementations"): a faster hash is a higher
/// sign-in ceiling at the same strength. The tests below hold it to RFC
/// 7914, ring, aws-lc-rs and the `pbkdf2` crate.
///
/// `out` is at most 64 bytes (the PHC output limit); the function cannot
/// fail or panic for any length.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: NonZeroU32, out: &mut [u8]) {
    toktok_pbkdf2::derive(password, salt, iterations.get(), out);
}

fn verify_pbkdf2(
    parsed: &PasswordHash<'_>,
    password: &[u8],
    current: HashAlgorithm,
) -> Verification {
    // The format has no version field.
    if parsed.version.is_some() {
        return Verification::FAILED;
    }
    let mut iterations = None;
    let mut length = None;
    for (ident, value) in parsed.params.iter() {
        let Ok(n) = value.decimal() else {
            return Verification::FAILED;
        };
        match ident.as_str() {
            "i" if iterations.is_none() => iterations = Some(n),
            "l" if length.is_none() => length = Some(n),
            _ => return Verification::FAILED,
        }
    }
    let Some(rounds) = iterations
        .and_then(NonZeroU32::new)
        .filter(|i| i.get() <= MAX_PBKDF2_ITERATIONS)
    else {
        return Verification::FAILED;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Verification::FAILED;
    };
    // `Output` parsing already bounds the hash to 10..=64 bytes; `l`, when
    // present, must agree with it.
    if length.is_some_and(|l| usize::try_from(l).ok() != Some(expected.len())) {
        return Verification::FAILED;
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return Verification::FAILED;
    };

    // Derives as many bytes as stored and compares them in constant time
    // (`Output`'s equality is `subtle`'s `ct_eq`; only the length, which
    // the stored string shows anyway, is compared directly).
    let mut derived = [0u8; 64];
    let derived = &mut derived[..expected.len()];
    pbkdf2_sha256(password, salt, rounds, derived);
    let ok = Output::new(derived).is_ok_and(|derived| derived == *expected);

    let needs_rehash = ok
        && match current {
            HashAlgorithm::Pbkdf2Sha256 {
                iterations: configured,
            } => {
                rounds.get() < configured
                    || expected.len() < PBKDF2_OUTPUT_LEN
                    || salt.len() < SALT_LEN
            }
            HashAlgorithm::Argon2id => true,
        };
    Verification { ok, needs_rehash }
}

fn verify_argon2id(
    parsed: &PasswordHash<'_>,
    password: &[u8],
    current: HashAlgorithm,
) -> Verification {
    let Ok(params) = argon2::Params::try_from(parsed) else {
        return Verification::FAILED;
    };
    if argon2_within_caps(&params).is_err() {
        return Verification::FAILED;
    }
    // Uses the algorithm, version and parameters from the string; compares
    // the outputs in constant time.
    let ok = argon2::Argon2::default()
        .verify_password(password, parsed)
        .is_ok();

    let needs_rehash = ok
        && match current {
            HashAlgorithm::Argon2id => {
                parsed.version != Some(argon2::Version::V0x13.into())
                    || params.m_cost() != ARGON2_M_KIB
                    || params.t_cost() != ARGON2_T
                    || params.p_cost() != ARGON2_P
                    || params.output_len() != Some(ARGON2_OUTPUT_LEN)
                    || !params.keyid().is_empty()
                    || !params.data().is_empty()
            }
            HashAlgorithm::Pbkdf2Sha256 { .. } => true,
        };
    Verification { ok, needs_rehash }
}

/// Refuses Argon2 parameters above the caps (memory is allocated as the
/// string says).
pub(super) fn argon2_within_caps(params: &argon2::Params) -> Result<(), foreign::Rejected> {
    if params.m_cost() > MAX_ARGON2_M_KIB
        || params.t_cost() > MAX_ARGON2_T
        || params.p_cost() > MAX_ARGON2_P
    {
        return Err(foreign::Rejected::TooCostly(format!(
            "argon2 m = {} KiB, t = {}, p = {} is above {MAX_ARGON2_M_KIB} KiB, {MAX_ARGON2_T}, {MAX_ARGON2_P}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost()
        )));
    }
    Ok(())
}

/// Whether `password` matches an Argon2 PHC string of any variant (i, d,
/// id), within the caps.
pub(super) fn argon2_matches(phc: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2::Params::try_from(&parsed).is_ok_and(|params| argon2_within_caps(&params).is_ok())
        && argon2::Argon2::default()
            .verify_password(password, &parsed)
            .is_ok()
}

fn argon2id() -> Result<argon2::Argon2<'static>, argon2::password_hash::Error> {
    let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(ARGON2_OUTPUT_LEN))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// A PHC string of `alg` that no password matches: a random salt and a
/// random output, in exactly the form [`hash_password`] writes, so verifying
/// a password against it does the same work as against a real hash. Making
/// it costs no hashing. Fails if the OS random generator fails or the PBKDF2
/// iteration count is out of range.
fn dummy_phc(alg: HashAlgorithm) -> Result<String, HashError> {
    let mut random = [0u8; SALT_LEN + 64];
    SystemRandom::new().fill(&mut random).map_err(|_| {
        tracing::error!("the OS random generator failed while making the dummy hash");
        HashError::Failed
    })?;
    let (salt, output) = random.split_at(SALT_LEN);
    match alg {
        HashAlgorithm::Pbkdf2Sha256 { iterations } => {
            if !(1..=MAX_PBKDF2_ITERATIONS).contains(&iterations) {
                tracing::error!(iterations, "PBKDF2 iteration count out of range");
                return Err(HashError::Failed);
            }
            Ok(format!(
                "${PBKDF2_SHA256_ID}$i={iterations},l={PBKDF2_OUTPUT_LEN}${}${}",
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(&output[..PBKDF2_OUTPUT_LEN]),
            ))
        }
        HashAlgorithm::Argon2id => Ok(format!(
            "${ARGON2ID_ID}$v=19$m={ARGON2_M_KIB},t={ARGON2_T},p={ARGON2_P}${}${}",
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(&output[..ARGON2_OUTPUT_LEN]),
        )),
    }
}

/// Runs hashing off the async runtime on tokio's blocking pool, at most
/// `permits` at a time, with a bounded queue: when `max_waiting` callers
/// already wait, returns [`Overloaded`] at once (the HTTP layer answers 503
/// with Retry-After). Send + Sync; share it via `Arc` in the app state.
#[derive(Debug)]
pub struct HashPool {
    /// Algorithm for new hashes, and the standard stored hashes are held to
    /// for `needs_rehash`.
    alg: HashAlgorithm,
    /// At most one hash per core at a time, with a bounded queue (P8).
    pool: BlockingPool,
    /// A PHC string of `alg` with a random salt and output ([`dummy_phc`]).
    /// An unknown user's login verifies against it so it costs the same as
    /// a known user's (L2). No password matches it, and the result is
    /// discarded anyway.
    dummy: Arc<str>,
    /// A Firebase project's keys, when users were imported from one
    /// (`[import.firebase]`).
    firebase: Option<Arc<foreign::FirebaseKeys>>,
    /// Running average of how long a verification of toktok's own kind
    /// takes, in microseconds: a foreign hash checked faster is padded to
    /// it (L2).
    own_micros: AtomicU64,
}

impl HashPool {
    /// Builds the pool and its dummy hash. `permits` below 1 is raised to 1.
    ///
    /// Fails, like [`hash_password`], if the OS random generator fails or
    /// the PBKDF2 iteration count is out of range, so a bad configuration is
    /// caught at start rather than at the first registration.
    pub fn new(alg: HashAlgorithm, permits: usize, max_waiting: usize) -> Result<Self, HashError> {
        let dummy = dummy_phc(alg)?;
        Ok(HashPool {
            alg,
            pool: BlockingPool::new(permits, max_waiting),
            dummy: dummy.into(),
            firebase: None,
            own_micros: AtomicU64::new(0),
        })
    }

    /// The pool, checking Firebase scrypt hashes with `keys`.
    pub fn with_firebase(mut self, keys: Option<foreign::FirebaseKeys>) -> Self {
        self.firebase = keys.map(Arc::new);
        self
    }

    #[cfg(any(test, feature = "testing"))]
    /// The default number of permits: the number of cores (P8).
    pub fn default_permits() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn algorithm(&self) -> HashAlgorithm {
        self.alg
    }

    /// The Firebase keys, when configured (the import checks for them).
    pub fn firebase(&self) -> Option<&foreign::FirebaseKeys> {
        self.firebase.as_deref()
    }

    /// Hashes waiting for a free core (the `/metrics` queue gauge).
    pub fn queued(&self) -> usize {
        self.pool.queued()
    }

    /// Hashes a new password with the configured algorithm.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let alg = self.alg;
        match self.pool.run(move || hash_password(alg, &password)).await {
            Ok(result) => result,
            Err(RunError::Overloaded) => Err(HashError::Overloaded),
            Err(RunError::Failed(e)) => {
                tracing::error!(error = %e, "password hashing task failed");
                Err(HashError::Failed)
            }
        }
    }

    /// Verifies a password against a stored hash. `phc: None` (unknown user,
    /// or user without password) verifies against the dummy hash so it costs
    /// the same, and returns ok=false. A panic in the hashing task also
    /// gives ok=false (and is logged).
    pub async fn verify(
        &self,
        phc: Option<String>,
        password: String,
    ) -> Result<Verification, Overloaded> {
        let current = self.alg;
        let known = phc.is_some();
        let dummy = Arc::clone(&self.dummy);
        let firebase = self.firebase.clone();
        let result = self
            .pool
            .run(move || {
                let phc = phc.as_deref().unwrap_or(&*dummy);
                let started = Instant::now();
                let verification = verify_stored(phc, &password, current, firebase.as_deref());
                (verification, started.elapsed(), !foreign::is_own(phc))
            })
            .await;
        match result {
            Ok((verification, took, foreign)) => {
                if foreign {
                    // L2: an imported user's cheaper foreign hash must not
                    // answer sooner than an unknown address does.
                    let usual = Duration::from_micros(self.own_micros.load(Ordering::Relaxed));
                    if let Some(rest) = usual.checked_sub(took) {
                        tokio::time::sleep(rest).await;
                    }
                } else {
                    self.learn(took);
                }
                Ok(if known {
                    verification
                } else {
                    Verification::FAILED
                })
            }
            Err(RunError::Overloaded) => Err(Overloaded),
            Err(RunError::Failed(e)) => {
                tracing::error!(error = %e, "password verification task failed");
                Ok(Verification::FAILED)
            }
        }
    }

    /// Folds one verification of the configured kind into the running
    /// average (weight 1/8) foreign checks are padded to.
    fn learn(&self, took: Duration) {
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let old = self.own_micros.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            old - old / 8 + sample / 8
        };
        self.own_micros.store(new, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: HashAlgorithm = HashAlgorithm::Pbkdf2Sha256 { iterations: 1000 };

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn ok() -> Verification {
        Verification {
            ok: true,
            needs_rehash: false,
        }
    }

    fn rounds(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    /// RFC 7914 §11, PBKDF2-HMAC-SHA-256 test vectors.
    const RFC7914: [(&[u8], &[u8], u32, &str); 2] = [
        (
            b"passwd",
            b"salt",
            1,
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
        ),
        (
            b"Password",
            b"NaCl",
            80000,
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d",
        ),
    ];

    #[test]
    fn pbkdf2_sha256_known_answers() {
        for (password, salt, iterations, expected) in RFC7914 {
            let mut out = [0u8; 64];
            pbkdf2_sha256(password, salt, rounds(iterations), &mut out);
            assert_eq!(out.to_vec(), hex(expected));
        }
    }

    /// ring's PBKDF2-HMAC-SHA256, which toktok used before the `pbkdf2`
    /// crate (and still ships, for signing).
    fn ring_pbkdf2(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds(iterations),
            salt,
            password,
            out,
        );
    }

    /// toktok-pbkdf2 against the `pbkdf2` crate (its generic loop, which
    /// it replaced) and aws-lc-rs, on every password length around the
    /// HMAC block (64: used as the key; 65: hashed first), salts of
    /// assorted lengths, outputs that are not whole blocks, few
    /// iterations and more.
    #[test]
    fn pbkdf2_sha256_agrees_with_the_pbkdf2_crate_and_aws_lc() {
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for password_len in [0, 1, 31, 32, 33, 55, 56, 63, 64, 65, 127, 128, 200] {
            for salt_len in [0, 1, 16, 55, 64, 100] {
                for len in [1, 20, 31, 32, 33, 64] {
                    for iterations in [1, 2, 3, 100] {
                        let (password, salt) = (&bytes[..password_len], &bytes[..salt_len]);
                        let mut ours = vec![0u8; len];
                        pbkdf2_sha256(password, salt, rounds(iterations), &mut ours);
                        let mut crate_ = vec![0u8; len];
                        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                            password,
                            salt,
                            iterations,
                            &mut crate_,
                        );
                        let mut awslc = vec![0u8; len];
                        aws_lc_rs::pbkdf2::derive(
                            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
                            rounds(iterations),
                            salt,
                            password,
                            &mut awslc,
                        );
                        let case = format!(
                            "password {password_len} B, salt {salt_len} B, {len} B out, {iterations} iterations"
                        );
                        assert_eq!(ours, crate_, "{case}");
                        assert_eq!(ours, awslc, "{case}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// And on generated inputs.
        #[test]
        fn pbkdf2_sha256_agrees_with_the_pbkdf2_crate_on_any_input(
            password in proptest::collection::vec(proptest::num::u8::ANY, 0..160),
            salt in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
            len in 1usize..=64,
            iterations in 1u32..40,
        ) {
            let mut ours = vec![0u8; len];
            pbkdf2_sha256(&password, &salt, rounds(iterations), &mut ours);
            let mut theirs = vec![0u8; len];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(&password, &salt, iterations, &mut theirs);
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn pbkdf2_sha256_agrees_with_ring() {
        // toktok-pbkdf2 against ring's, on the RFC vectors and on
        // assorted lengths (including ones that are not whole blocks),
        // passwords and salts (empty, non-ASCII, longer than a block).
        for (password, salt, iterations, expected) in RFC7914 {
            let mut out = [0u8; 64];
            ring_pbkdf2(password, salt, iterations, &mut out);
            assert_eq!(out.to_vec(), hex(expected));
        }
        let long = [0x5au8; 100];
        for (password, salt) in [
            (&b"pa\xc3\xa9ss"[..], &b"0123456789abcdef"[..]),
            (b"", b"salt"),
            (&long[..], &long[..]),
        ] {
            for len in [10, 20, 32, 33, 64] {
                for iterations in [1, 2, 777] {
                    let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
                    pbkdf2_sha256(password, salt, rounds(iterations), &mut a);
                    ring_pbkdf2(password, salt, iterations, &mut b);
                    assert_eq!(a, b, "length {len}, {iterations} iterations");
                }
            }
        }
        // And a PHC string written by ring verifies, and one written now
        // has what ring derives.
        let mut out = [0u8; 32];
        ring_pbkdf2(b"correct horse", &[9u8; 16], 1000, &mut out);
        let phc = format!(
            "$pbkdf2-sha256$i=1000,l=32${}${}",
            STANDARD_NO_PAD.encode([9u8; 16]),
            STANDARD_NO_PAD.encode(out)
        );
        assert_eq!(verify_password(&phc, "correct horse", FAST), ok());
        let fresh = hash_password(FAST, "correct horse").unwrap();
        let parts: Vec<&str> = fresh.split('$').collect();
        ring_pbkdf2(
            b"correct horse",
            &STANDARD_NO_PAD.decode(parts[3]).unwrap(),
            1000,
            &mut out,
        );
        assert_eq!(STANDARD_NO_PAD.encode(out), parts[4]);
    }

    #[test]
    fn hashes_stored_by_the_ring_version_still_verify() {
        // Written by `toktok user create --password-stdin` built from the
        // last commit that hashed with ring (4c1080b), read from its
        // database: every stored hash must keep verifying, byte for byte
        // the same format.
        let stored = [
            (
                "correct horse battery staple",
                "$pbkdf2-sha256$i=1000,l=32$AXBVj80cXpsmltJbezOQTw\
                 $D5NRzO1Ui75nOAwb9XHyeA+IGMxssfXdSajIAvyHcok",
            ),
            (
                "p\u{e4}ssw\u{f6}rd with \u{fc}mlauts",
                "$pbkdf2-sha256$i=1000,l=32$e4CfWnI8Wrs+XQ/1KZjgVA\
                 $oIrMaqipwABQINoIXmqyTbSbzDr+GTxoTmIhFNE97sI",
            ),
            (
                // Stored NFKC-normalised: the ASCII spelling verifies too.
                "\u{ff46}\u{ff55}\u{ff4c}\u{ff4c}\u{ff57}\u{ff49}\u{ff44}\u{ff54}\u{ff48} passphrase",
                "$pbkdf2-sha256$i=1000,l=32$ga4pEJ7JirNpuwsDwW9EGQ\
                 $1nzDRMUWVrlIrnIFw/i9X/+4dt0No+Ro81Yxpn8F13Q",
            ),
            (
                "six hundred thousand rounds",
                "$pbkdf2-sha256$i=600000,l=32$OVNZRYUyOdxurDIfOWWWnQ\
                 $jp0HZiBu+SN2vU+8jWktJK5h8m4ngNaxQahrU0m+dKo",
            ),
        ];
        for (password, phc) in stored {
            let alg = HashAlgorithm::Pbkdf2Sha256 {
                iterations: if phc.contains("i=600000") {
                    600_000
                } else {
                    1000
                },
            };
            assert_eq!(verify_password(phc, password, alg), ok(), "{phc}");
            assert!(!verify_password(phc, "wrong", alg).ok, "{phc}");
        }
        assert!(verify_password(stored[2].1, "fullwidth passphrase", FAST).ok);
    }

    #[test]
    fn verifies_a_phc_string_made_elsewhere() {
        // Made with Python: hashlib.pbkdf2_hmac('sha256', pw, bytes(range(16)),
        // 1000, 32), standard base64 without padding.
        let phc = "$pbkdf2-sha256$i=1000,l=32$AAECAwQFBgcICQoLDA0ODw\
                   $ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ4";
        assert_eq!(
            verify_password(phc, "correct horse battery staple", FAST),
            ok()
        );
        assert!(!verify_password(phc, "correct horse battery stapler", FAST).ok);
    }

    #[test]
    fn pbkdf2_round_trip() {
        let phc = hash_password(FAST, "correct horse battery staple").unwrap();
        let parts: Vec<&str> = phc.split('$').collect();
        assert_eq!(parts[..3], ["", "pbkdf2-sha256", "i=1000,l=32"]);
        assert_eq!(STANDARD_NO_PAD.decode(parts[3]).unwrap().len(), 16);
        assert_eq!(STANDARD_NO_PAD.decode(parts[4]).unwrap().len(), 32);
        assert_eq!(parts.len(), 5);
        assert_eq!(
            verify_password(&phc, "correct horse battery staple", FAST),
            ok()
        );
        // Fresh salt each time.
        assert_ne!(
            phc,
            hash_password(FAST, "correct horse battery staple").unwrap()
        );
    }

    #[test]
    fn argon2id_round_trip() {
        let phc = hash_password(HashAlgorithm::Argon2id, "correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let salt = phc.split('$').nth(4).unwrap();
        assert_eq!(STANDARD_NO_PAD.decode(salt).unwrap().len(), 16);
        assert_eq!(
            verify_password(
                &phc,
                "correct horse battery staple",
                HashAlgorithm::Argon2id
            ),
            ok()
        );
    }

    #[test]
    fn default_is_600000_iterations() {
        let alg = HashAlgorithm::default();
        assert_eq!(
            alg,
            HashAlgorithm::Pbkdf2Sha256 {
                iterations: 600_000
            }
        );
        let started = Instant::now();
        let phc = hash_password(alg, "correct horse battery staple").unwrap();
        let hashed = started.elapsed();
        assert!(phc.starts_with("$pbkdf2-sha256$i=600000,l=32$"), "{phc}");
        let started = Instant::now();
        assert_eq!(
            verify_password(&phc, "correct horse battery staple", alg),
            ok()
        );
        let verified = started.elapsed();
        assert!(!verify_password(&phc, "Correct horse battery staple", alg).ok);
        eprintln!("PBKDF2-SHA256 600000 iterations: hash {hashed:?}, verify {verified:?}");
    }

    #[test]
    fn wrong_password_fails() {
        for alg in [FAST, HashAlgorithm::Argon2id] {
            let phc = hash_password(alg, "correct horse battery staple").unwrap();
            for wrong in [
                "",
                "correct horse battery stapl",
                "Correct horse battery staple",
            ] {
                assert_eq!(
                    verify_password(&phc, wrong, alg),
                    Verification::FAILED,
                    "{alg:?}"
                );
            }
        }
    }

    #[test]
    fn needs_rehash_when_parameters_rise_or_algorithm_changes() {
        let pw = "correct horse battery staple";
        let pbkdf2 = hash_password(FAST, pw).unwrap();
        let more = HashAlgorithm::Pbkdf2Sha256 { iterations: 2000 };
        let fewer = HashAlgorithm::Pbkdf2Sha256 { iterations: 500 };
        assert_eq!(
            verify_password(&pbkdf2, pw, more),
            Verification {
                ok: true,
                needs_rehash: true
            }
        );
        assert_eq!(verify_password(&pbkdf2, pw, fewer), ok());
        assert_eq!(
            verify_password(&pbkdf2, pw, HashAlgorithm::Argon2id),
            Verification {
                ok: true,
                needs_rehash: true
            }
        );
        // Only a successful verification asks for a rehash.
        assert_eq!(verify_password(&pbkdf2, "nope", more), Verification::FAILED);

        let argon = hash_password(HashAlgorithm::Argon2id, pw).unwrap();
        assert_eq!(
            verify_password(&argon, pw, FAST),
            Verification {
                ok: true,
                needs_rehash: true
            }
        );

        // Argon2id with other parameters than the configured ones.
        let weaker = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8192, 1, 1, Some(32)).unwrap(),
        );
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let weaker = weaker
            .hash_password(pw.as_bytes(), &salt)
            .unwrap()
            .to_string();
        assert!(weaker.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
        assert_eq!(
            verify_password(&weaker, pw, HashAlgorithm::Argon2id),
            Verification {
                ok: true,
                needs_rehash: true
            }
        );
    }

    #[test]
    fn malformed_phc_strings_fail_fast_without_panicking() {
        let good = hash_password(FAST, "pw").unwrap();
        let parts: Vec<&str> = good.split('$').collect();
        let (salt, hash) = (parts[3], parts[4]);
        let cases = [
            String::new(),
            "garbage".into(),
            "$".into(),
            "$$$$".into(),
            "$pbkdf2-sha256".into(),
            "$pbkdf2-sha256$i=1000,l=32".into(),
            format!("$pbkdf2-sha256$i=1000,l=32${salt}"),
            format!("$pbkdf2-sha256$i=1000,l=32${salt}$"),
            format!("$pbkdf2-sha256$i=1000,l=32$!!!!$${hash}"),
            format!("$pbkdf2-sha256$i=1000,l=32${salt}$not*base64!"),
            format!("$pbkdf2-sha256$i=1000,l=32${salt}${hash}="),
            format!(
                "$pbkdf2-sha256$i=1000,l=32${salt}${}",
                &hash[..hash.len() - 1]
            ),
            format!("$pbkdf2-sha256$i=1000,l=32${salt}${hash}$extra"),
            format!("$pbkdf2-sha256$i=0,l=32${salt}${hash}"),
            format!("$pbkdf2-sha256$i=99999999999,l=32${salt}${hash}"),
            format!("$pbkdf2-sha256$i=4294967295,l=32${salt}${hash}"),
            format!("$pbkdf2-sha256$i=10000001,l=32${salt}${hash}"),
            format!("$pbkdf2-sha256$i=-1000,l=32${salt}${hash}"),
            format!("$pbkdf2-sha256$i=01000,l=32${salt}${hash}"),
            format!("$pbkdf2-sha256$i=1000,l=16${salt}${hash}"),
            format!("$pbkdf2-sha256$i=1000,i=1000${salt}${hash}"),
            format!("$pbkdf2-sha256$l=32${salt}${hash}"),
            format!("$pbkdf2-sha256$i=1000,l=32,x=1${salt}${hash}"),
            format!("$pbkdf2-sha256$v=19$i=1000,l=32${salt}${hash}"),
            format!("$pbkdf2-sha512$i=1000,l=32${salt}${hash}"),
            format!("$pbkdf2$i=1000,l=32${salt}${hash}"),
            format!("$argon2i$v=19$m=19456,t=2,p=1${salt}${hash}"),
            format!("$argon2id$v=19$m=4194304,t=2,p=1${salt}${hash}"),
            format!("$argon2id$v=19$m=19456,t=1000,p=1${salt}${hash}"),
            format!("$argon2id$v=19$m=19456,t=2,p=255${salt}${hash}"),
            format!("$argon2id$v=19$m=1,t=2,p=1${salt}${hash}"),
            format!("$argon2id$v=99$m=19456,t=2,p=1${salt}${hash}"),
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW".into(),
            "\u{0}\u{feff}$pbkdf2-sha256$".into(),
            "$pbkdf2-sha256$i=1000,l=32$".repeat(1000),
        ];
        let started = Instant::now();
        for phc in &cases {
            assert_eq!(
                verify_password(phc, "pw", FAST),
                Verification::FAILED,
                "{phc:?}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // The untouched string does verify, so the cases above fail for the
        // reason they were built for.
        assert_eq!(verify_password(&good, "pw", FAST), ok());
    }

    #[test]
    fn out_of_range_iterations_are_refused_when_hashing() {
        for iterations in [0, MAX_PBKDF2_ITERATIONS + 1] {
            let alg = HashAlgorithm::Pbkdf2Sha256 { iterations };
            assert_eq!(hash_password(alg, "pw"), Err(HashError::Failed));
            assert!(HashPool::new(alg, 1, 1).is_err());
        }
    }

    #[test]
    fn passwords_are_nfkc_normalised() {
        for alg in [FAST, HashAlgorithm::Argon2id] {
            let phc = hash_password(alg, "ｐａｓｓｗｏｒｄ ｏｆ ｍｉｎｅ").unwrap();
            assert_eq!(verify_password(&phc, "password of mine", alg), ok());
            let phc = hash_password(alg, "password of mine").unwrap();
            assert_eq!(
                verify_password(&phc, "ｐａｓｓｗｏｒｄ ｏｆ ｍｉｎｅ", alg),
                ok()
            );
            // Normalisation does not fold case.
            assert!(!verify_password(&phc, "Password of mine", alg).ok);
            // Composed and decomposed accents are the same password.
            let phc = hash_password(alg, "caf\u{e9} cr\u{e8}me").unwrap();
            assert!(verify_password(&phc, "cafe\u{301} cre\u{300}me", alg).ok);
        }
    }

    #[tokio::test]
    async fn pool_round_trip() {
        for alg in [FAST, HashAlgorithm::Argon2id] {
            let pool = HashPool::new(alg, 2, 4).unwrap();
            assert_eq!(pool.algorithm(), alg);
            let phc = pool
                .hash("correct horse battery staple".into())
                .await
                .unwrap();
            let v = pool
                .verify(Some(phc.clone()), "correct horse battery staple".into())
                .await
                .unwrap();
            assert_eq!(v, ok());
            let v = pool.verify(Some(phc), "wrong".into()).await.unwrap();
            assert_eq!(v, Verification::FAILED);
        }
    }

    #[tokio::test]
    async fn unknown_user_costs_a_dummy_verification_and_fails() {
        let pool = HashPool::new(FAST, 1, 1).unwrap();
        // The dummy is a real hash of the configured algorithm, so verifying
        // against it does the full work rather than failing on parsing.
        assert!(pool.dummy.starts_with("$pbkdf2-sha256$i=1000,l=32$"));
        assert!(PasswordHash::new(&pool.dummy).is_ok());
        for pw in ["", "password", &*pool.dummy] {
            let v = pool.verify(None, pw.into()).await.unwrap();
            assert_eq!(v, Verification::FAILED);
        }
        assert!(HashPool::default_permits() >= 1);
    }

    #[test]
    fn the_dummy_has_the_shape_and_cost_of_a_real_hash() {
        for alg in [FAST, HashAlgorithm::default(), HashAlgorithm::Argon2id] {
            let dummy = dummy_phc(alg).unwrap();
            let real = hash_password(alg, "any password at all").unwrap();
            let (d, r) = (
                PasswordHash::new(&dummy).unwrap(),
                PasswordHash::new(&real).unwrap(),
            );
            assert_eq!(d.algorithm, r.algorithm, "{dummy}");
            assert_eq!(d.version, r.version, "{dummy}");
            assert_eq!(d.params, r.params, "same cost: {dummy}");
            assert_eq!(
                d.salt.map(|s| s.as_str().len()),
                r.salt.map(|s| s.as_str().len())
            );
            assert_eq!(d.hash.map(|h| h.len()), r.hash.map(|h| h.len()));
            assert_ne!(dummy, dummy_phc(alg).unwrap(), "random each time");
        }
        assert!(dummy_phc(HashAlgorithm::Pbkdf2Sha256 { iterations: 0 }).is_err());
        let too_many = MAX_PBKDF2_ITERATIONS + 1;
        assert!(dummy_phc(HashAlgorithm::Pbkdf2Sha256 {
            iterations: too_many
        })
        .is_err());
    }

    #[tokio::test]
    async fn overloaded_when_two_calls_overlap() {
        let pool = Arc::new(HashPool::new(FAST, 1, 0).unwrap());
        // First call: occupies the only permit until told to finish.
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn({
            let pool = Arc::clone(&pool);
            async move { pool.pool.run(move || blocked.recv().is_ok()).await }
        });
        while pool.pool.semaphore.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        // Second call overlaps: no permit, no room to wait.
        assert!(pool.verify(None, "pw".into()).await.is_err());
        assert_eq!(pool.hash("pw".into()).await, Err(HashError::Overloaded));
        assert_eq!(pool.pool.waiting.load(Ordering::Acquire), 0);

        release.send(()).unwrap();
        assert!(matches!(first.await.unwrap(), Ok(true)));
        assert_eq!(pool.pool.semaphore.available_permits(), 1);
        assert!(pool.hash("pw".into()).await.is_ok());
    }

    #[tokio::test]
    async fn callers_queue_up_to_max_waiting() {
        let pool = Arc::new(HashPool::new(FAST, 1, 1).unwrap());
        let held = Arc::clone(&pool.pool.semaphore)
            .try_acquire_owned()
            .unwrap();
        let phc = hash_password(FAST, "pw").unwrap();
        let waiter = tokio::spawn({
            let pool = Arc::clone(&pool);
            async move { pool.verify(Some(phc), "pw".into()).await }
        });
        while pool.pool.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // The queue (of one) is full.
        assert!(pool.verify(None, "pw".into()).await.is_err());
        drop(held);
        assert_eq!(waiter.await.unwrap().unwrap(), ok());
        assert_eq!(pool.pool.waiting.load(Ordering::Acquire), 0);
        assert_eq!(pool.pool.semaphore.available_permits(), 1);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_gives_its_place_back() {
        let pool = HashPool::new(FAST, 1, 1).unwrap();
        let held = Arc::clone(&pool.pool.semaphore)
            .try_acquire_owned()
            .unwrap();
        let timed_out =
            tokio::time::timeout(Duration::from_millis(20), pool.verify(None, "pw".into())).await;
        assert!(timed_out.is_err());
        assert_eq!(pool.pool.waiting.load(Ordering::Acquire), 0);
        drop(held);
        // The slot is usable again.
        let v = pool.verify(None, "pw".into()).await.unwrap();
        assert_eq!(v, Verification::FAILED);
    }

    #[tokio::test]
    async fn a_panicking_task_releases_its_permit_and_does_not_hang() {
        let pool = HashPool::new(FAST, 1, 0).unwrap();
        let result = pool
            .pool
            .run(|| -> bool { panic!("boom (expected by this test)") })
            .await;
        assert!(matches!(result, Err(RunError::Failed(e)) if e.is_panic()));
        assert_eq!(pool.pool.semaphore.available_permits(), 1);
        // And the pool still works.
        assert!(pool.hash("pw".into()).await.is_ok());
    }

    #[test]
    fn pool_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<HashPool>();
    }

    /// L2: an imported user's cheap foreign hash answers no sooner than
    /// toktok's own hashes usually take; an own hash teaches the pool that
    /// time.
    #[tokio::test]
    async fn a_cheap_foreign_hash_is_padded_to_the_usual_time() {
        let pool = HashPool::new(FAST, 1, 1).unwrap();
        let bcrypt4 = "$2b$04$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC".to_owned();
        pool.own_micros.store(150_000, Ordering::Relaxed);
        let started = Instant::now();
        let v = pool
            .verify(Some(bcrypt4.clone()), "correct horse".into())
            .await
            .unwrap();
        assert!(v.ok && v.needs_rehash);
        assert!(started.elapsed() >= Duration::from_millis(150));
        // An own verification moves the average toward its own time.
        let own = hash_password(FAST, "pw").unwrap();
        pool.verify(Some(own), "pw".into()).await.unwrap();
        assert!(pool.own_micros.load(Ordering::Relaxed) < 150_000);
        // A fresh pool has learnt nothing and pads nothing.
        let fresh = HashPool::new(FAST, 1, 1).unwrap();
        assert_eq!(fresh.own_micros.load(Ordering::Relaxed), 0);
        assert!(
            fresh
                .verify(Some(bcrypt4), "correct horse".into())
                .await
                .unwrap()
                .ok
        );
    }
}
