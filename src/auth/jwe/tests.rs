use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use aws_lc_rs::rsa::{
    KeySize, OaepPublicEncryptingKey, Pkcs1PublicEncryptingKey, PublicEncryptingKey,
    OAEP_SHA256_MGF1SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde_json::Value;

use super::keys::{key_size, thumbprint, DecryptionKey};
use super::*;
use crate::store::{Db, RsaKeyRow, Store};

/// Two 2048-bit keys, generated once for the whole test binary.
fn keys() -> &'static (Vec<u8>, Vec<u8>) {
    static KEYS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            generate_key(2048).unwrap().private_der,
            generate_key(2048).unwrap().private_der,
        )
    })
}

/// Current key A, previous key B.
fn keyring() -> RsaKeyring {
    let (a, b) = keys();
    RsaKeyring::from_pkcs8(a, &[b], 2, 8).unwrap()
}

/// Only key B: A's ciphertexts are for a key it does not have.
fn other_keyring() -> RsaKeyring {
    RsaKeyring::from_pkcs8(&keys().1, &[], 2, 8).unwrap()
}

/// The served public key, read back from its PEM. Encryption in these
/// tests is aws-lc's public-key side; what keeps them honest against a
/// shared mistake is `an_independent_implementation_agrees` (a key and
/// JWEs made by Python's `cryptography`) and the Wycheproof vectors.
fn public_key_of(ring: &RsaKeyring) -> PublicEncryptingKey {
    PublicEncryptingKey::from_der(&pem_body(ring.public_key()["pem"].as_str().unwrap())).unwrap()
}

/// The DER inside a PEM armour.
fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// `n` and `e` of an SPKI DER, read by hand (RFC 5280 SubjectPublicKeyInfo
/// around RFC 8017 RSAPublicKey), without leading zero bytes.
fn spki_n_e(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    // (value, rest) of one DER element.
    fn element(d: &[u8]) -> (&[u8], &[u8]) {
        let (len, header) = if d[1] < 0x80 {
            (usize::from(d[1]), 2)
        } else {
            let n = usize::from(d[1] & 0x7f);
            let len = d[2..2 + n]
                .iter()
                .fold(0usize, |a, &b| a << 8 | usize::from(b));
            (len, 2 + n)
        };
        (&d[header..header + len], &d[header + len..])
    }
    let (spki, _) = element(der);
    let (_algorithm, rest) = element(spki);
    let (bits, _) = element(rest);
    let (rsa_key, _) = element(&bits[1..]); // after the unused-bits byte
    let (n, rest) = element(rsa_key);
    let (e, _) = element(rest);
    let strip = |x: &[u8]| x.iter().copied().skip_while(|&b| b == 0).collect();
    (strip(n), strip(e))
}

fn b64e(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWE built by the test: aws-lc's public-key OAEP-SHA256 for the key,
/// ring's AES-GCM for the content.
#[derive(Clone)]
struct Jwe {
    header: String,
    ek: Vec<u8>,
    iv: Vec<u8>,
    ct: Vec<u8>,
    tag: Vec<u8>,
}

impl Jwe {
    fn compact(&self) -> String {
        format!(
            "{}.{}.{}.{}.{}",
            self.header,
            b64e(&self.ek),
            b64e(&self.iv),
            b64e(&self.ct),
            b64e(&self.tag)
        )
    }
}

fn wrap_oaep256(public: &PublicEncryptingKey, cek: &[u8]) -> Vec<u8> {
    let key = OaepPublicEncryptingKey::new(public.clone()).unwrap();
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(&OAEP_SHA256_MGF1SHA256, cek, &mut out, None)
        .unwrap()
        .len();
    out.truncate(len);
    out
}

/// RSAES-PKCS1-v1_5, which the server must never accept (O1).
fn wrap_pkcs1(public: &PublicEncryptingKey, cek: &[u8]) -> Vec<u8> {
    let key = Pkcs1PublicEncryptingKey::new(public.clone()).unwrap();
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key.encrypt(cek, &mut out).unwrap().len();
    out.truncate(len);
    out
}

/// AES-GCM with the key length deciding AES-128 or AES-256.
fn seal(cek: &[u8], iv: &[u8; 12], aad: &str, plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let alg = if cek.len() == 16 {
        &AES_128_GCM
    } else {
        &AES_256_GCM
    };
    let key = LessSafeKey::new(UnboundKey::new(alg, cek).unwrap());
    let mut in_out = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*iv),
            Aad::from(aad.as_bytes()),
            &mut in_out,
        )
        .unwrap();
    (in_out, tag.as_ref().to_vec())
}

/// A JWE with this header JSON, key-wrapped with `ek` for `cek`.
fn jwe_with(header_json: &str, ek: Vec<u8>, cek: &[u8], plaintext: &[u8]) -> Jwe {
    let header = b64e(header_json.as_bytes());
    let mut iv = [0u8; 12];
    SystemRandom::new().fill(&mut iv).unwrap();
    let (ct, tag) = seal(cek, &iv, &header, plaintext);
    Jwe {
        header,
        ek,
        iv: iv.to_vec(),
        ct,
        tag,
    }
}

fn random_cek() -> [u8; 32] {
    let mut cek = [0u8; 32];
    SystemRandom::new().fill(&mut cek).unwrap();
    cek
}

/// A valid JWE for `public` with the given header.
fn jwe_for(public: &PublicEncryptingKey, header_json: &str, plaintext: &[u8]) -> Jwe {
    let cek = random_cek();
    jwe_with(header_json, wrap_oaep256(public, &cek), &cek, plaintext)
}

const BODY: &[u8] = br#"{"email":"a@example.com","password":"correct horse battery staple"}"#;
const HEADER: &str = r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#;

fn valid() -> Jwe {
    jwe_for(&public_key_of(&keyring()), HEADER, BODY)
}

fn refused(ring: &RsaKeyring, compact: &str, case: &str) {
    assert_eq!(
        ring.decrypt_jwe(compact.as_bytes()),
        Err(InvalidEncryption),
        "{case} must be refused"
    );
}

#[test]
fn key_bits_map_to_the_nearest_supported_size_at_or_above() {
    assert!(key_size(1024).is_err());
    assert!(key_size(2047).is_err());
    assert_eq!(key_size(2048).unwrap(), KeySize::Rsa2048);
    assert_eq!(key_size(2049).unwrap(), KeySize::Rsa3072);
    assert_eq!(key_size(3072).unwrap(), KeySize::Rsa3072);
    assert_eq!(key_size(3073).unwrap(), KeySize::Rsa4096);
    assert_eq!(key_size(5000).unwrap(), KeySize::Rsa8192);
    assert_eq!(key_size(8192).unwrap(), KeySize::Rsa8192);
    assert!(key_size(8193).is_err());
}

#[test]
fn the_default_size_generates_a_3072_bit_key() {
    let key = generate_key(3072).unwrap();
    let ring = RsaKeyring::from_pkcs8(&key.private_der, &[], 1, 1).unwrap();
    assert_eq!(ring.kid(), key.kid);
    assert_eq!(public_key_of(&ring).key_size_bytes(), 384);
    let jwe = jwe_for(&public_key_of(&ring), HEADER, BODY);
    assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
    // Debug never shows the private key.
    assert!(!format!("{key:?}").contains("private_der"));
}

#[test]
fn a_key_below_2048_bits_is_refused() {
    // A 1024-bit PKCS#8 key from the Wycheproof set (aws-lc generates no
    // keys that small).
    use wycheproof::rsa_oaep::{TestName, TestSet};
    let set = TestSet::load(TestName::RsaMisc).unwrap();
    let small = set
        .test_groups
        .iter()
        .find(|g| g.key_size == 1024)
        .expect("the misc set has 1024-bit keys");
    assert!(RsaKeyring::from_pkcs8(&small.pkcs8, &[], 1, 1).is_err());
    assert!(RsaKeyring::from_pkcs8(b"not a key", &[], 1, 1).is_err());
}

#[test]
fn the_public_key_object_has_the_documented_shape() {
    let ring = keyring();
    let public = ring.public_key();
    let object = public.as_object().unwrap();
    let mut members: Vec<_> = object.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["alg", "enc", "jwk", "kid", "pem"]);
    assert_eq!(public["alg"], "RSA-OAEP-256");
    assert_eq!(public["enc"], "A256GCM");
    assert_eq!(public["kid"], ring.kid().as_str());
    let pem = public["pem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pem.ends_with("\n-----END PUBLIC KEY-----\n"));
    assert!(pem.lines().all(|l| l.len() <= 64));
    let jwk = &public["jwk"];
    let mut members: Vec<_> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RSA-OAEP-256");
    assert_eq!(jwk["use"], "enc");
    assert_eq!(jwk["kid"], public["kid"]);
    // n and e agree with an independent parse of the PEM.
    let (n, e) = spki_n_e(&pem_body(pem));
    assert_eq!(jwk["n"], b64e(&n).as_str());
    assert_eq!(jwk["e"], b64e(&e).as_str());
    assert_eq!(jwk["e"], "AQAB");
    // The kid is the RFC 7638 thumbprint of that JWK.
    let (n, e) = (jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap());
    assert_eq!(public["kid"], thumbprint(n, e).as_str());
}

/// A key and two JWEs made by Python's `cryptography` on OpenSSL
/// (`testdata/independent.py`), which shares no code with aws-lc or ring:
/// the kid, the public-key object and decryption agree with it.
#[test]
fn an_independent_implementation_agrees() {
    let fixture: Value = serde_json::from_str(include_str!("testdata/independent.json")).unwrap();
    let text = |name: &str| fixture[name].as_str().unwrap().to_owned();
    let pkcs8 = STANDARD.decode(text("pkcs8")).unwrap();
    let ring = RsaKeyring::from_pkcs8(&pkcs8, &[], 1, 1).unwrap();
    let public = ring.public_key();
    assert_eq!(ring.kid(), text("kid"));
    assert_eq!(public["pem"], text("pem").as_str());
    assert_eq!(public["jwk"]["n"], text("n").as_str());
    assert_eq!(public["jwk"]["e"], text("e").as_str());
    for jwe in ["jwe", "jwe_with_kid"] {
        assert_eq!(
            ring.decrypt_jwe(text(jwe).as_bytes()).unwrap(),
            text("plaintext").as_bytes(),
            "{jwe}"
        );
    }
}

#[test]
fn thumbprint_matches_rfc_7638_example() {
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    assert_eq!(
        thumbprint(n, "AQAB"),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn round_trip_with_the_public_key_side() {
    let ring = keyring();
    let public = public_key_of(&ring);
    // Without a kid: the current key.
    let jwe = jwe_for(&public, HEADER, BODY);
    assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
    // With the current kid, typ and cty, and members in another order.
    let header = format!(
        r#"{{"enc":"A256GCM","kid":"{}","typ":"JOSE","cty":"json","alg":"RSA-OAEP-256"}}"#,
        ring.kid()
    );
    let jwe = jwe_for(&public, &header, BODY);
    assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
    // A body near the HTTP limit, and an empty one.
    let big = vec![b'x'; 60 * 1024];
    let jwe = jwe_for(&public, HEADER, &big);
    assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), big);
    let jwe = jwe_for(&public, HEADER, b"");
    assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), b"");
}

#[test]
fn a_previous_key_decrypts_only_when_named_by_kid() {
    let ring = keyring();
    let previous = other_keyring();
    assert_eq!(ring.kids(), [ring.kid(), previous.kid()]);
    let old_public = public_key_of(&previous);
    let header = format!(
        r#"{{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"{}"}}"#,
        previous.kid()
    );
    let jwe = jwe_for(&old_public, &header, BODY);
    assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
    // Without a kid only the current key is tried.
    let jwe = jwe_for(&old_public, HEADER, BODY);
    refused(&ring, &jwe.compact(), "a previous key's JWE without kid");
}

#[test]
fn every_malformed_or_tampered_jwe_is_the_same_error() {
    let ring = keyring();
    let public = public_key_of(&ring);
    let good = valid();
    assert_eq!(ring.decrypt_jwe(good.compact().as_bytes()).unwrap(), BODY);
    let compact = good.compact();
    let segments: Vec<&str> = compact.split('.').collect();
    let join = |parts: &[&str]| parts.join(".");

    // Segment count.
    refused(&ring, &join(&segments[..4]), "4 segments");
    refused(&ring, &format!("{compact}."), "6 segments (empty)");
    refused(&ring, &format!("{compact}.AAAA"), "6 segments");
    refused(&ring, "", "empty input");
    refused(&ring, "....", "5 empty segments");

    // Bad base64url in each segment: a character outside the alphabet,
    // the standard alphabet's '+', and padding.
    for i in 0..5 {
        for bad in ["!", "+", "="] {
            let mut parts: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
            parts[i].push_str(bad);
            if bad == "=" {
                // Keep the length a multiple of 4 minus padding, so only
                // the padding itself is wrong.
                parts[i].push('=');
            }
            refused(&ring, &parts.join("."), &format!("segment {i} + {bad:?}"));
        }
        // Non-canonical trailing bits: the last character changed so the
        // decoded bytes are the same but unused bits are set.
        let mut parts: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
        if parts[i].len() % 4 != 0 {
            let last = parts[i].pop().unwrap();
            let index = URL_SAFE_ALPHABET.find(last).unwrap();
            parts[i].push(URL_SAFE_ALPHABET.as_bytes()[index | 1] as char);
            if URL_SAFE_ALPHABET.as_bytes()[index | 1] as char != last {
                refused(
                    &ring,
                    &parts.join("."),
                    &format!("segment {i} trailing bits"),
                );
            }
        }
    }

    // Algorithms other than RSA-OAEP-256 + A256GCM, with otherwise good
    // content (the header alone must refuse them), and a real PKCS#1 v1.5
    // key wrap for RSA1_5.
    for header in [
        r#"{"alg":"RSA1_5","enc":"A256GCM"}"#,
        r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
        r#"{"alg":"none","enc":"A256GCM"}"#,
        r#"{"alg":"dir","enc":"A256GCM"}"#,
        r#"{"alg":"rsa-oaep-256","enc":"A256GCM"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A128GCM"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["exp"],"exp":1}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","jku":"https://evil.example"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","alg":"RSA-OAEP-256"}"#,
        r#"{"alg":"RSA-OAEP-256"}"#,
        r#"{"enc":"A256GCM"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":7}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"unknown"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":""}"#,
        r#"["RSA-OAEP-256","A256GCM"]"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"} "#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}{}"#,
        "not json",
    ] {
        let jwe = jwe_for(&public, header, BODY);
        if header.ends_with("} ") {
            // Trailing whitespace is valid JSON; the JWE is then fine.
            assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
            continue;
        }
        refused(&ring, &jwe.compact(), header);
    }
    let cek = random_cek();
    let pkcs1 = wrap_pkcs1(&public, &cek);
    let rsa1_5 = jwe_with(
        r#"{"alg":"RSA1_5","enc":"A256GCM"}"#,
        pkcs1.clone(),
        &cek,
        BODY,
    );
    refused(&ring, &rsa1_5.compact(), "RSA1_5 with a PKCS#1 v1.5 key");
    // ... nor is a PKCS#1 v1.5 wrapped key under an RSA-OAEP-256 header.
    let lying = jwe_with(HEADER, pkcs1, &cek, BODY);
    refused(
        &ring,
        &lying.compact(),
        "PKCS#1 v1.5 key wrap labelled OAEP-256",
    );

    // The wrong key: encrypted to another key pair.
    let stranger = jwe_for(&public_key_of(&other_keyring()), HEADER, BODY);
    refused(&other_keyring(), &valid().compact(), "JWE for another key");
    refused(
        &ring,
        &stranger.compact(),
        "JWE for the previous key, no kid",
    );

    // A flipped bit anywhere.
    let flip = |bytes: &mut Vec<u8>, at: usize| bytes[at] ^= 0x01;
    let mut jwe = good.clone();
    flip(&mut jwe.ek, 0);
    refused(
        &ring,
        &jwe.compact(),
        "flipped bit in the encrypted key (first byte)",
    );
    let mut jwe = good.clone();
    let last = jwe.ek.len() - 1;
    flip(&mut jwe.ek, last);
    refused(
        &ring,
        &jwe.compact(),
        "flipped bit in the encrypted key (last byte)",
    );
    let mut jwe = good.clone();
    flip(&mut jwe.iv, 5);
    refused(&ring, &jwe.compact(), "flipped bit in the IV");
    let mut jwe = good.clone();
    flip(&mut jwe.ct, 3);
    refused(&ring, &jwe.compact(), "flipped bit in the ciphertext");
    let mut jwe = good.clone();
    flip(&mut jwe.tag, 15);
    refused(&ring, &jwe.compact(), "flipped bit in the tag");
    let mut header = URL_SAFE_NO_PAD.decode(&good.header).unwrap();
    flip(&mut header, 2); // "alg" -> "amg": refused by the allow-list
    let mut jwe = good.clone();
    jwe.header = b64e(&header);
    refused(&ring, &jwe.compact(), "flipped bit in the protected header");
    // The same header with other whitespace: the AAD is the segment as
    // sent, so the tag no longer matches.
    let mut jwe = good.clone();
    jwe.header = b64e(br#"{"alg":"RSA-OAEP-256", "enc":"A256GCM"}"#);
    refused(&ring, &jwe.compact(), "re-encoded protected header");

    // Lengths: IV, tag, encrypted key.
    let mut jwe = good.clone();
    jwe.tag.pop();
    refused(&ring, &jwe.compact(), "truncated tag");
    let mut jwe = good.clone();
    jwe.tag.clear();
    refused(&ring, &jwe.compact(), "no tag");
    let mut jwe = good.clone();
    jwe.tag.push(0);
    refused(&ring, &jwe.compact(), "17-byte tag");
    let mut jwe = good.clone();
    jwe.iv.push(0);
    refused(&ring, &jwe.compact(), "13-byte IV");
    let mut jwe = good.clone();
    jwe.iv.truncate(8);
    refused(&ring, &jwe.compact(), "8-byte IV");
    let mut jwe = good.clone();
    jwe.ek.insert(0, 0);
    refused(&ring, &jwe.compact(), "encrypted key one byte too long");
    let mut jwe = good.clone();
    jwe.ek.clear();
    refused(&ring, &jwe.compact(), "no encrypted key");
    let mut jwe = good.clone();
    jwe.ek = vec![0xff; jwe.ek.len()];
    refused(&ring, &jwe.compact(), "encrypted key above the modulus");
    let mut jwe = good.clone();
    jwe.ek = vec![0; jwe.ek.len()];
    refused(&ring, &jwe.compact(), "zero encrypted key");

    // A content key of the wrong length, with content encrypted under it
    // (AES-128-GCM for 16 bytes, the first 32 bytes for 33).
    let short = [7u8; 16];
    let jwe = jwe_with(HEADER, wrap_oaep256(&public, &short), &short, BODY);
    refused(&ring, &jwe.compact(), "16-byte CEK");
    let long = [7u8; 33];
    let jwe = jwe_with(HEADER, wrap_oaep256(&public, &long), &long[..32], BODY);
    refused(&ring, &jwe.compact(), "33-byte CEK");
    let jwe = jwe_with(HEADER, wrap_oaep256(&public, &[]), &[0u8; 32], BODY);
    refused(&ring, &jwe.compact(), "empty CEK");

    // Over the size cap, even if otherwise well formed.
    let mut jwe = good.clone();
    jwe.ct = vec![0; MAX_JWE_LEN];
    refused(&ring, &jwe.compact(), "over MAX_JWE_LEN");
    // Not ASCII at all.
    assert_eq!(ring.decrypt_jwe(&[0xff; 40]), Err(InvalidEncryption));
}

const URL_SAFE_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[tokio::test]
async fn decrypt_runs_on_the_pool_and_maps_errors() {
    let ring = keyring();
    let jwe = valid();
    assert_eq!(
        ring.decrypt(jwe.compact().into_bytes()).await.unwrap(),
        BODY
    );
    assert_eq!(
        ring.decrypt(b"a.b.c.d.e".to_vec()).await,
        Err(DecryptError::Invalid)
    );
    assert_eq!(
        ring.decrypt(vec![b'a'; MAX_JWE_LEN + 1]).await,
        Err(DecryptError::Invalid)
    );
}

#[tokio::test]
async fn a_full_pool_with_a_full_queue_refuses_at_once() {
    let (a, _) = keys();
    let ring = Arc::new(RsaKeyring::from_pkcs8(a, &[], 1, 1).unwrap());
    // Occupy the only permit.
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let busy = {
        let ring = Arc::clone(&ring);
        tokio::spawn(async move {
            ring.pool
                .run(move || {
                    let _ = started.send(());
                    let _ = blocked.recv();
                })
                .await
        })
    };
    running.await.unwrap();
    // One caller may wait...
    let waiting = {
        let ring = Arc::clone(&ring);
        let body = valid().compact().into_bytes();
        tokio::spawn(async move { ring.decrypt(body).await })
    };
    while ring.pool.waiting.load(Ordering::Acquire) < 1 {
        tokio::task::yield_now().await;
    }
    // ... the next is refused without waiting.
    assert_eq!(
        ring.decrypt(valid().compact().into_bytes()).await,
        Err(DecryptError::Overloaded)
    );
    release.send(()).unwrap();
    busy.await.unwrap().unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), BODY);
    assert_eq!(ring.pool.waiting.load(Ordering::Acquire), 0);
}

#[tokio::test]
async fn keys_persist_rotate_and_expire_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
    let t0 = 1_700_000_000;
    const DELAY: i64 = 120;
    let first = RsaKeyring::load(&store, 2048, DELAY, t0).await.unwrap();
    let again = RsaKeyring::load(&store, 2048, DELAY, t0 + 10)
        .await
        .unwrap();
    assert_eq!(first.kid(), again.kid());
    assert_eq!(first.public_key(), again.public_key());
    assert_eq!(store.rsa_keys().await.unwrap().len(), 1);

    // Rotation (what `toktok keys rotate --rsa` does), then a reload.
    let old_jwe = jwe_for(
        &public_key_of(&first),
        &format!(
            r#"{{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"{}"}}"#,
            first.kid()
        ),
        BODY,
    );
    let new = generate_key(2048).unwrap();
    store
        .rotate_rsa_key(
            RsaKeyRow {
                kid: new.kid.clone(),
                private_der: new.private_der,
                created_at: t0 + 100,
                retired_at: None,
            },
            t0 + 100,
        )
        .await
        .unwrap();
    // The new key decrypts at once but is served only after the delay,
    // when every instance has reloaded and decrypts with it too.
    again.reload(&store, t0 + 100).await.unwrap();
    assert_eq!(again.kid(), first.kid());
    assert_eq!(again.kids(), [first.kid(), new.kid.clone()]);
    again.reload(&store, t0 + 100 + DELAY).await.unwrap();
    assert_eq!(again.kid(), new.kid);
    assert_eq!(again.kids(), [new.kid.clone(), first.kid()]);
    assert_eq!(
        again.decrypt_jwe(old_jwe.compact().as_bytes()).unwrap(),
        BODY
    );

    // Still within the grace period at its last second...
    again
        .reload(&store, t0 + 100 + GRACE_PERIOD + DELAY)
        .await
        .unwrap();
    assert_eq!(
        again.decrypt_jwe(old_jwe.compact().as_bytes()).unwrap(),
        BODY
    );
    // ... gone after it, from memory and from the database.
    again
        .reload(&store, t0 + 101 + GRACE_PERIOD + DELAY)
        .await
        .unwrap();
    assert_eq!(again.kids(), std::slice::from_ref(&new.kid));
    assert_eq!(
        again.decrypt_jwe(old_jwe.compact().as_bytes()),
        Err(InvalidEncryption)
    );
    assert_eq!(store.rsa_keys().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_damaged_stored_key_stops_the_start_with_its_kid() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
    store
        .insert_first_rsa_key(RsaKeyRow {
            kid: "broken".into(),
            private_der: vec![1, 2, 3],
            created_at: 1,
            retired_at: None,
        })
        .await
        .unwrap();
    let err = RsaKeyring::load(&store, 2048, 120, 2).await.unwrap_err();
    assert!(format!("{err:#}").contains("broken"), "{err:#}");
}

/// Wycheproof RSA-OAEP with SHA-256 and MGF1-SHA-256, run against the
/// exact OAEP step `decrypt_jwe` uses (with each vector's label).
#[test]
fn wycheproof_rsa_oaep_sha256_vectors() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    use wycheproof::{HashFunction, Mgf, TestResult};

    let (mut run, mut passed, mut small_keys, mut acceptable) = (0, 0, 0, 0);
    for name in [
        TestName::Rsa2048Sha256Mgf1Sha256,
        TestName::Rsa3072Sha256Mgf1Sha256,
        TestName::Rsa4096Sha256Mgf1Sha256,
        TestName::RsaMisc,
    ] {
        let set = TestSet::load(name).unwrap();
        for group in set.test_groups {
            if group.hash != HashFunction::Sha2_256
                || group.mgf != Mgf::Mgf1
                || group.mgf_hash != HashFunction::Sha2_256
            {
                continue;
            }
            let key = DecryptionKey::from_pkcs8(&group.pkcs8);
            if group.key_size < MIN_KEY_BITS {
                // O3: such keys are refused outright, so their vectors
                // cannot run; the refusal is what is checked.
                assert!(key.is_err(), "a {}-bit key must be refused", group.key_size);
                small_keys += group.tests.len();
                continue;
            }
            let key = key.unwrap_or_else(|e| panic!("{}-bit key: {e}", group.key_size));
            for test in &group.tests {
                run += 1;
                let label = (!test.label.is_empty()).then_some(&test.label[..]);
                let got = key.oaep_decrypt(&test.ct, label);
                let ok = match test.result {
                    TestResult::Valid => got.as_deref() == Some(&test.pt[..]),
                    TestResult::Invalid => got.is_none(),
                    TestResult::Acceptable => {
                        acceptable += 1;
                        got.as_deref().is_none_or(|pt| pt == &test.pt[..])
                    }
                };
                assert!(ok, "tcId {} ({}) gave {:?}", test.tc_id, test.comment, got);
                passed += 1;
            }
        }
    }
    eprintln!(
        "wycheproof RSA-OAEP-SHA256: {run} run, {passed} passed, \
         {small_keys} skipped (keys below 2048 bits, refused), {acceptable} acceptable"
    );
    assert_eq!(run, passed);
    assert!(run >= 3 * 37, "all three sha256 sets ran ({run})");
}

/// O1: OAEP with SHA-1 is not accepted as OAEP-256 either: every valid
/// SHA-1 vector fails the SHA-256 step.
#[test]
fn wycheproof_sha1_oaep_ciphertexts_are_refused() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    use wycheproof::TestResult;

    let set = TestSet::load(TestName::Rsa2048Sha1Mgf1Sha1).unwrap();
    let mut checked = 0;
    for group in set.test_groups {
        let key = DecryptionKey::from_pkcs8(&group.pkcs8).unwrap();
        for test in group.tests.iter().filter(|t| t.result == TestResult::Valid) {
            let label = (!test.label.is_empty()).then_some(&test.label[..]);
            assert_eq!(
                key.oaep_decrypt(&test.ct, label),
                None,
                "tcId {}",
                test.tc_id
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// Hostile input, property-tested (issue 9; docs/SECURITY.md D6): JWE decrypt
/// of damaged and arbitrary input, formerly in tests/api/hostile.rs.
mod hostile {
    use proptest::prelude::*;

    use super::*;
    use crate::auth::hostile::{json_value, mutate, mutation, runner};

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_mutated_jwe_never_decrypts() {
        // O2: every failure is the one error; nothing mutated gets through.
        let ring = keyring();
        let jwe = valid().compact();
        assert_eq!(ring.decrypt_jwe(jwe.as_bytes()).unwrap(), BODY);
        runner(256)
            .run(&mutation(), |m| {
                let damaged = mutate(jwe.as_bytes(), &m);
                prop_assume!(damaged != jwe.as_bytes());
                prop_assert!(ring.decrypt_jwe(&damaged).is_err(), "{:?} decrypted", m);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn arbitrary_bytes_and_jwe_shaped_garbage_never_decrypt_or_panic() {
        let ring = keyring();
        let segment = prop_oneof![
            "[A-Za-z0-9_-]{0,400}",
            Just(b64e(br#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#)),
            Just(b64e(br#"{"alg":"RSA1_5","enc":"A256GCM"}"#)),
            json_value(NOW).prop_map(|v| b64e(v.to_string().as_bytes())),
        ];
        runner(256)
            .run(
                &(
                    prop::collection::vec(any::<u8>(), 0..600),
                    prop::collection::vec(segment, 0..7),
                ),
                |(bytes, segments)| {
                    prop_assert!(ring.decrypt_jwe(&bytes).is_err());
                    prop_assert!(ring.decrypt_jwe(segments.join(".").as_bytes()).is_err());
                    Ok(())
                },
            )
            .unwrap();
    }
}
