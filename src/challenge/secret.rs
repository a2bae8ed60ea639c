//! Secrets: how they are drawn and how they are remembered.
//!
//! Every kind of secret comes from the OS CSPRNG (ring's `SystemRandom`).
//! ms-token drew alphabet and digit secrets from a seeded Mersenne Twister
//! (chance.js); here each character is drawn by rejection sampling over
//! random bytes, so no character is more likely than another (no modulo
//! bias). A uuid secret is a UUIDv4 built from 16 random bytes.
//!
//! Only an HMAC-SHA256 of `action ‖ 0x00 ‖ id ‖ 0x00 ‖ secret` under a
//! server-held key is stored (E1). A plain SHA-256 would not do: a six-digit
//! secret has a million values, and a stolen database would give every one of
//! them away in a second. Without the key the hash says nothing. Binding the
//! hash to (action, id) also means a secret issued for one action can never
//! match a challenge of another (E7).

use ring::error::Unspecified;
use ring::hmac;
use serde::{Deserialize, Serialize};

/// The longest secret of the alphabet and number kinds, in characters.
pub const MAX_LENGTH: u16 = 256;

/// A source of cryptographically secure random bytes. `SystemRandom` in
/// production; tests feed fixed bytes to check the sampler's arithmetic.
pub(crate) trait FillRandom {
    fn fill_random(&self, dest: &mut [u8]) -> Result<(), Unspecified>;
}

impl FillRandom for ring::rand::SystemRandom {
    fn fill_random(&self, dest: &mut [u8]) -> Result<(), Unspecified> {
        ring::rand::SecureRandom::fill(self, dest)
    }
}

/// What kind of secret a challenge has (the `type` of docs/API.md's `secret`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SecretKind {
    /// A UUIDv4 (122 random bits).
    Uuid,
    /// `length` characters drawn from `alphabet` (as given; duplicates are
    /// ignored when drawing, so each distinct character is equally likely).
    Alphabet { alphabet: String, length: u16 },
    /// `length` decimal digits.
    Number { length: u16 },
}

/// A secret's kind and whether it is handed out encrypted (as a token).
/// Serialised as the `settings.secret` object: `{"type",..,"encrypt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretSpec {
    #[serde(flatten)]
    pub kind: SecretKind,
    pub encrypt: bool,
}

/// A raw secret. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[cfg(any(test, feature = "testing"))]
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Draws a new secret of `kind`.
pub(crate) fn generate(kind: &SecretKind, rng: &dyn FillRandom) -> Result<Secret, Unspecified> {
    match kind {
        SecretKind::Uuid => {
            let mut bytes = [0u8; 16];
            rng.fill_random(&mut bytes)?;
            let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
            Ok(Secret(uuid.hyphenated().to_string()))
        }
        SecretKind::Alphabet { alphabet, length } => {
            let pool = distinct_chars(alphabet);
            draw(&pool, *length, rng)
        }
        SecretKind::Number { length } => {
            let digits: Vec<char> = ('0'..='9').collect();
            draw(&digits, *length, rng)
        }
    }
}

/// The distinct characters of `alphabet`, in order of first appearance.
pub(crate) fn distinct_chars(alphabet: &str) -> Vec<char> {
    let mut seen = Vec::new();
    for c in alphabet.chars() {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen
}

fn draw(pool: &[char], length: u16, rng: &dyn FillRandom) -> Result<Secret, Unspecified> {
    if pool.is_empty() {
        return Err(Unspecified);
    }
    let mut stream = RandomStream::new(rng);
    let mut out = String::with_capacity(usize::from(length));
    for _ in 0..length {
        let index = stream.below(pool.len())?;
        // `below` answers less than `pool.len()`.
        if let Some(c) = pool.get(index) {
            out.push(*c);
        }
    }
    Ok(Secret(out))
}

/// Random bytes, fetched from the source 64 at a time.
struct RandomStream<'a> {
    rng: &'a dyn FillRandom,
    buf: [u8; 64],
    pos: usize,
}

impl<'a> RandomStream<'a> {
    fn new(rng: &'a dyn FillRandom) -> RandomStream<'a> {
        RandomStream {
            rng,
            buf: [0; 64],
            pos: 64,
        }
    }

    fn byte(&mut self) -> Result<u8, Unspecified> {
        if self.pos == self.buf.len() {
            self.rng.fill_random(&mut self.buf)?;
            self.pos = 0;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// A uniformly distributed number in `0..n` (`n` ≥ 1), by rejection
    /// sampling: a draw from the incomplete last block of size `n` is thrown
    /// away, so every answer has exactly the same number of preimages.
    fn below(&mut self, n: usize) -> Result<usize, Unspecified> {
        if n == 0 {
            return Err(Unspecified);
        }
        if n <= 256 {
            // One byte per draw: accept 0..limit, a multiple of n.
            let limit = 256 - (256 % n);
            loop {
                let b = usize::from(self.byte()?);
                if b < limit {
                    return Ok(b % n);
                }
            }
        }
        let n = u64::try_from(n).map_err(|_| Unspecified)?;
        if n > 1 << 32 {
            return Err(Unspecified);
        }
        let space: u64 = 1 << 32;
        let limit = space - (space % n);
        loop {
            let mut word = [0u8; 4];
            for b in &mut word {
                *b = self.byte()?;
            }
            let v = u64::from(u32::from_be_bytes(word));
            if v < limit {
                return usize::try_from(v % n).map_err(|_| Unspecified);
            }
        }
    }
}

/// Keyed hashes of secrets, as stored in `challenges.secret_hash`.
pub(crate) struct SecretHasher {
    key: hmac::Key,
}

impl SecretHasher {
    pub fn new(key: &[u8]) -> SecretHasher {
        SecretHasher {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    fn message(action: &str, id: &str, secret: &str) -> Vec<u8> {
        // Action and id never contain NUL (validation refuses it), so the
        // encoding is unambiguous.
        let mut m = Vec::with_capacity(action.len() + id.len() + secret.len() + 2);
        m.extend_from_slice(action.as_bytes());
        m.push(0);
        m.extend_from_slice(id.as_bytes());
        m.push(0);
        m.extend_from_slice(secret.as_bytes());
        m
    }

    /// The hex HMAC to store.
    pub fn hash(&self, action: &str, id: &str, secret: &Secret) -> String {
        let tag = hmac::sign(&self.key, &Self::message(action, id, secret.expose()));
        hex(tag.as_ref())
    }

    /// Whether `secret` is the one whose hash is `stored`; the comparison
    /// takes the same time whatever the bytes (ring's `hmac::verify`).
    pub fn matches(&self, action: &str, id: &str, secret: &str, stored: &str) -> bool {
        let Some(tag) = unhex(stored) else {
            return false;
        };
        hmac::verify(&self.key, &Self::message(action, id, secret), &tag).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::Cell;

    /// Hands out 0, 1, 2, … 255, 0, 1, … : one full cycle of byte values.
    struct Counter(Cell<u8>);

    impl FillRandom for Counter {
        fn fill_random(&self, dest: &mut [u8]) -> Result<(), Unspecified> {
            for b in dest {
                *b = self.0.get();
                self.0.set(self.0.get().wrapping_add(1));
            }
            Ok(())
        }
    }

    struct Broken;

    impl FillRandom for Broken {
        fn fill_random(&self, _: &mut [u8]) -> Result<(), Unspecified> {
            Err(Unspecified)
        }
    }

    #[test]
    fn byte_sampling_has_no_modulo_bias() {
        // Feed every byte value exactly once: a biased `b % n` would give
        // the first 256 % n values one extra hit. Rejection gives each value
        // exactly 256 / n hits.
        for n in [2usize, 3, 7, 10, 36, 62, 100, 129, 255, 256] {
            let rng = Counter(Cell::new(0));
            let mut stream = RandomStream::new(&rng);
            let accepted = 256 - 256 % n;
            let mut counts = vec![0usize; n];
            for _ in 0..accepted {
                counts[stream.below(n).unwrap()] += 1;
            }
            assert!(counts.iter().all(|&c| c == 256 / n), "n={n}: {counts:?}");
        }
    }

    #[test]
    fn word_sampling_rejects_the_incomplete_block() {
        // n = 3 * 2^30 - 1 does not divide 2^32; a draw at or above the
        // limit is skipped and the next one used.
        struct Words(Cell<usize>);
        impl FillRandom for Words {
            fn fill_random(&self, dest: &mut [u8]) -> Result<(), Unspecified> {
                // First word 0xFFFF_FFFF (rejected), then 5, repeated.
                for (i, b) in dest.iter_mut().enumerate() {
                    let k = self.0.get() + i;
                    *b = if (k / 4) % 2 == 0 {
                        0xff
                    } else if k % 4 == 3 {
                        5
                    } else {
                        0
                    };
                }
                self.0.set(self.0.get() + dest.len());
                Ok(())
            }
        }
        let rng = Words(Cell::new(0));
        let mut stream = RandomStream::new(&rng);
        assert_eq!(stream.below(3 * (1 << 30) - 1).unwrap(), 5);
    }

    #[test]
    fn a_failing_random_source_is_an_error_not_zeros() {
        for kind in [
            SecretKind::Uuid,
            SecretKind::Number { length: 6 },
            SecretKind::Alphabet {
                alphabet: "ab".into(),
                length: 4,
            },
        ] {
            assert!(generate(&kind, &Broken).is_err());
        }
    }

    #[test]
    fn uuid_secrets_are_version_4() {
        let rng = ring::rand::SystemRandom::new();
        let s = generate(&SecretKind::Uuid, &rng).unwrap();
        let u = uuid::Uuid::parse_str(s.expose()).unwrap();
        assert_eq!(u.get_version_num(), 4);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(s.expose(), u.hyphenated().to_string());
    }

    #[test]
    fn digits_are_roughly_uniform_from_the_os() {
        // 60,000 digits: each expected 6,000 times; 5 sigma is about 370.
        let rng = ring::rand::SystemRandom::new();
        let s = generate(&SecretKind::Number { length: 60 }, &rng).unwrap();
        assert_eq!(s.expose().len(), 60);
        let mut counts = [0usize; 10];
        for _ in 0..1000 {
            let s = generate(&SecretKind::Number { length: 60 }, &rng).unwrap();
            for c in s.expose().chars() {
                counts[c.to_digit(10).unwrap() as usize] += 1;
            }
        }
        assert!(
            counts.iter().all(|&c| (5_630..=6_370).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn the_hash_is_keyed_and_bound_to_action_and_id() {
        let h = SecretHasher::new(b"k1");
        let s = Secret::new("123456".into());
        let stored = h.hash("reset", "a@b.c", &s);
        assert_eq!(stored.len(), 64);
        assert!(h.matches("reset", "a@b.c", "123456", &stored));
        assert!(!h.matches("invite", "a@b.c", "123456", &stored));
        assert!(!h.matches("reset", "x@b.c", "123456", &stored));
        assert!(!h.matches("reset", "a@b.c", "123457", &stored));
        assert!(!h.matches("reset", "a@b.c", "123456", "zz"));
        assert_ne!(stored, SecretHasher::new(b"k2").hash("reset", "a@b.c", &s));
        assert!(!stored.contains("123456"));
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secret::new("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    proptest! {
        #[test]
        fn alphabet_secrets_use_only_the_alphabet(alphabet in "\\PC{2,40}", length in 1u16..=256) {
            prop_assume!(distinct_chars(&alphabet).len() >= 2);
            let rng = ring::rand::SystemRandom::new();
            let kind = SecretKind::Alphabet { alphabet: alphabet.clone(), length };
            let s = generate(&kind, &rng).unwrap();
            prop_assert_eq!(s.expose().chars().count(), usize::from(length));
            prop_assert!(s.expose().chars().all(|c| alphabet.contains(c)));
        }

        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        }
    }
}
