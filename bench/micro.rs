//! Micro-benchmarks (issue 8): the CPU cost of toktok's building blocks,
//! without HTTP. `cargo bench --bench micro` runs them all;
//! `cargo bench --bench micro -- jwt` only the JWT ones.
//!
//! - password: hash and verify, PBKDF2-SHA256 at a reduced cost (1,000
//!   iterations: the per-iteration price) and at the default 600,000
//!   (what one login costs; this is the "hash ceiling" of `bench/run.sh`);
//! - jwt: sign and verify per algorithm (EdDSA, ES256, RS256, HS256), the
//!   verification both with the signature check (`verify`) and for a token
//!   the keyring has seen before (`verify-remembered`);
//! - challenge: create and verify with the in-process engine on a SQLite
//!   file (each step is durable: this includes the fsync);
//! - jwe: decrypting an RSA-OAEP-256 + A256GCM body with a 3072-bit key.

// A benchmark's set-up either works or the run is void: failing loudly is
// the right answer, so unwrap/expect are fine here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

use toktok::auth::jwe::RsaKeyring;
use toktok::auth::jwt::{self, Algorithm, Claims, Keyring, TokenKind, Validation};
use toktok::auth::password::{hash_password, verify_password, HashAlgorithm};
use toktok::challenge::{CreateParams, Engine, Lookup, VerifyOptions};
use toktok::clock::{SharedClock, SystemClock};
use toktok::store::{Db, Store};

const PASSWORD: &str = "correct horse battery staple";

fn password(c: &mut Criterion) {
    let mut group = c.benchmark_group("password");
    group.sampling_mode(SamplingMode::Flat);
    for iterations in [1_000u32, 600_000] {
        if iterations > 1_000 {
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(3));
        }
        let alg = HashAlgorithm::Pbkdf2Sha256 { iterations };
        group.bench_function(format!("hash/pbkdf2-sha256/{iterations}"), |b| {
            b.iter(|| hash_password(alg, PASSWORD).expect("hashing works"))
        });
        let phc = hash_password(alg, PASSWORD).expect("hashing works");
        group.bench_function(format!("verify/pbkdf2-sha256/{iterations}"), |b| {
            b.iter(|| assert!(verify_password(&phc, PASSWORD, alg).ok))
        });
    }
    group.finish();
}

fn claims(now: i64) -> Claims {
    Claims {
        iss: "toktok".into(),
        aud: "toktok".into(),
        sub: "0192f1d2-0000-7000-8000-000000000000".into(),
        exp: now + 900,
        iat: now,
        nbf: now,
        jti: "0192f1d2-0000-7000-8000-000000000001".into(),
        client_id: Some(jwt::FIRST_PARTY_CLIENT_ID.into()),
        sid: Some("0192f1d2-0000-7000-8000-000000000002".into()),
        typ: TokenKind::Access,
        email: Some("someone@example.com".into()),
        email_verified: Some(true),
        role: Some("user".into()),
        auth_time: Some(now),
        amr: Some(vec!["pwd".into()]),
        aal: Some(1),
        scope: None,
    }
}

fn jwt(c: &mut Criterion) {
    let now = 1_800_000_000;
    let validation = Validation {
        issuer: "toktok".into(),
        audience: "toktok".into(),
        leeway: 30,
        kind: TokenKind::Access,
    };
    let mut group = c.benchmark_group("jwt");
    for alg in [
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::RS256,
        Algorithm::HS256,
    ] {
        let keyring = if alg == Algorithm::HS256 {
            Keyring::hs256(b"a bench secret of at least thirty-two bytes")
        } else {
            let key = jwt::generate_key(alg).expect("key generation works");
            Keyring::new(alg, &key, &[]).expect("the key loads")
        };
        let claims = claims(now);
        group.bench_function(format!("sign/{}", alg.as_str()), |b| {
            b.iter(|| keyring.sign(&claims).expect("signing works"))
        });
        let token = keyring.sign(&claims).expect("signing works");
        // The signature check every new token pays once.
        group.bench_function(format!("verify/{}", alg.as_str()), |b| {
            b.iter(|| {
                keyring
                    .verify_fresh(&token, &validation, now)
                    .expect("the token verifies")
            })
        });
        // The same token again: served from the keyring's memo, claims
        // still checked against the clock.
        group.bench_function(format!("verify-remembered/{}", alg.as_str()), |b| {
            b.iter(|| {
                keyring
                    .verify(&token, &validation, now)
                    .expect("the token verifies")
            })
        });
    }
    group.finish();
}

fn challenge(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("bench.db");
    let engine = runtime.block_on(async {
        let db = tokio::task::spawn_blocking(move || Db::open(&path))
            .await
            .expect("the open task")
            .expect("the database opens");
        let clock: SharedClock = Arc::new(SystemClock);
        Engine::load(Store::new(db), clock, 5)
            .await
            .expect("the engine loads")
    });
    let mut n = 0u64;
    let mut create = |engine: &Engine| {
        n += 1;
        let params = CreateParams::new("bench", &n.to_string());
        runtime
            .block_on(engine.create(params))
            .expect("create works")
            .secret
            .expect("a secret by default")
    };
    let mut group = c.benchmark_group("challenge");
    group.bench_function("create", |b| b.iter(|| create(&engine)));
    group.bench_function("verify", |b| {
        b.iter_batched(
            || create(&engine),
            |token| {
                runtime
                    .block_on(engine.verify(Lookup::Token(token), VerifyOptions::default(), None))
                    .expect("verify works")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// A JWE compact serialisation for `public_pem`, built independently of
/// toktok: aws-lc's public-key side wraps the content key, ring seals the
/// content.
fn jwe_for(public_pem: &str, plaintext: &[u8]) -> String {
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA256_MGF1SHA256};
    let body: String = public_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("a PEM body");
    let public =
        OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&der).expect("a public key"))
            .expect("an OAEP key");
    let cek: [u8; 32] = rand_bytes();
    let iv: [u8; 12] = rand_bytes();
    let mut ek = vec![0u8; public.ciphertext_size()];
    let len = public
        .encrypt(&OAEP_SHA256_MGF1SHA256, &cek, &mut ek, None)
        .expect("OAEP encryption works")
        .len();
    ek.truncate(len);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#);
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cek).expect("an AES key"));
    let mut ct = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header.as_bytes()),
            &mut ct,
        )
        .expect("sealing works");
    format!(
        "{header}.{}.{}.{}.{}",
        URL_SAFE_NO_PAD.encode(ek),
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ct),
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    use rand_core::RngCore as _;
    let mut bytes = [0u8; N];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn jwe(c: &mut Criterion) {
    let key = toktok::auth::jwe::generate_key(3072).expect("RSA key generation works");
    let keyring = RsaKeyring::from_pkcs8(&key.private_der, &[], 1, 1).expect("the key loads");
    let pem = keyring.public_key()["pem"]
        .as_str()
        .expect("the public key has a PEM")
        .to_owned();
    let body = br#"{"email":"someone@example.com","password":"correct horse battery staple"}"#;
    let compact = jwe_for(&pem, body);
    let mut group = c.benchmark_group("jwe");
    group.bench_function("decrypt/RSA-OAEP-256+A256GCM/3072", |b| {
        b.iter(|| {
            keyring
                .decrypt_jwe(compact.as_bytes())
                .expect("the JWE decrypts")
        })
    });
    group.finish();
}

criterion_group!(benches, password, jwt, challenge, jwe);
criterion_main!(benches);
