//! PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) for toktok's password hashes: HMAC
//! from the RustCrypto `hmac` crate and SHA-256's compression function
//! from `sha2`, with the iterations specialised.
//!
//! Why specialised: a sign-in costs one PBKDF2 of 600,000 iterations, so
//! the iteration is the sign-in rate's bound. The `pbkdf2` crate's generic
//! loop runs each iteration through `Hmac<Sha256>`: a clone of both keyed
//! states, the block buffer, the padding, the finalisation. Here an
//! iteration is what the definition needs and no more: two SHA-256
//! compressions from the keyed states HMAC starts from, of one block each
//! whose padding never changes (the message is always one 32-byte digest
//! after the key's block). 57 ms instead of the crate's 71 per 600,000
//! iterations on the benchmark machine (`examples/hash_time.rs`). The
//! cryptography stays `sha2`'s (`compress256`, with the CPU's SHA
//! extensions) and `hmac`'s (the first iteration, over the salt).
//!
//! Why a crate of its own: named here, behind the non-generic [`derive`],
//! it is built at this package's optimisation level, which toktok's
//! Cargo.toml keeps at 3 in debug builds too: a debug toktok (tests,
//! `cargo run`) hashes at release speed instead of about 30 times slower.
//! toktok's own tests hold it bit for bit to RFC 7914's vectors, to ring,
//! to aws-lc-rs and to the `pbkdf2` crate, on fixed and on generated
//! inputs (`src/auth/password.rs`).

#![forbid(unsafe_code)]

use hmac::digest::KeyInit;
use hmac::{Mac as _, SimpleHmac};
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;
use sha2::{compress256, Digest as _, Sha256};

/// One SHA-256 block.
type Block = GenericArray<u8, U64>;

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// HMAC's block size, and SHA-256's.
const BLOCK: usize = 64;

/// The one block that ends a message of one block and then a 32-byte
/// digest (`words`, big-endian): the digest, then SHA-256's padding for 96
/// bytes, 768 bits, in all (FIPS 180-4 §5.1.1).
fn digest_block(words: &[u32; 8]) -> Block {
    let mut block = [0u8; BLOCK];
    for (bytes, word) in block[..32].chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    block[32] = 0x80;
    block[56..].copy_from_slice(&768u64.to_be_bytes());
    block.into()
}

/// SHA-256's state after one block of the HMAC key XOR `pad` (RFC 2104).
fn keyed_state(key: &[u8; BLOCK], pad: u8) -> [u32; 8] {
    let mut block = [0u8; BLOCK];
    for (b, k) in block.iter_mut().zip(key) {
        *b = k ^ pad;
    }
    let mut state = IV;
    compress256(&mut state, &[block.into()]);
    state
}

/// Fills `out` with PBKDF2-HMAC-SHA256 of `password` and `salt` at
/// `rounds` iterations. Cannot fail or panic for an `out` of any length
/// (toktok asks for at most 64 bytes, the PHC output limit); `rounds = 0`
/// behaves as 1 (callers refuse 0 before).
pub fn derive(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    // HMAC's key: the password, or its SHA-256 if longer than a block,
    // zero-padded to a block.
    let mut key = [0u8; BLOCK];
    if password.len() > BLOCK {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let inner = keyed_state(&key, 0x36);
    let outer = keyed_state(&key, 0x5c);

    for (index, chunk) in out.chunks_mut(32).enumerate() {
        // U1 = HMAC(P, S || INT(i)), over a salt of any length: the
        // `hmac` crate's, keyed with the block-sized key above (RFC 2104
        // pads or hashes P to exactly that), so nothing can fail here.
        let mut mac = <SimpleHmac<Sha256> as KeyInit>::new(&key.into());
        mac.update(salt);
        mac.update(&u32::try_from(index + 1).unwrap_or(u32::MAX).to_be_bytes());
        let first = mac.finalize().into_bytes();
        let mut u = [0u32; 8];
        for (word, bytes) in u.iter_mut().zip(first.chunks_exact(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let mut t = u;
        // U(j+1) = HMAC(P, Uj) = SHA-256 from the outer keyed state over
        // SHA-256 from the inner keyed state over Uj: one block each.
        for _ in 1..rounds.max(1) {
            let mut digest = inner;
            compress256(&mut digest, &[digest_block(&u)]);
            u = outer;
            compress256(&mut u, &[digest_block(&digest)]);
            for (t, u) in t.iter_mut().zip(&u) {
                *t ^= u;
            }
        }
        for (bytes, word) in chunk.chunks_mut(4).zip(&t) {
            bytes.copy_from_slice(&word.to_be_bytes()[..bytes.len()]);
        }
    }
}
