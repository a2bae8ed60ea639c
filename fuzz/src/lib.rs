//! The bodies of toktok's fuzz targets (issue 9, docs/SECURITY.md D6). Each
//! takes libFuzzer's bytes, drives one parser of hostile input, and panics
//! when a property breaks, not only when the parser does:
//!
//! - `jwt`: arbitrary text never verifies, as any kind, under any of the four
//!   algorithms; a genuine token with any byte changed never verifies; an
//!   HS256-signed arbitrary header and payload passes only as a complete,
//!   current token of the kind asked for.
//! - `jwe`: arbitrary bytes never decrypt; a genuine JWE with any byte
//!   changed never decrypts; a JWE sealed for the real key with an
//!   arbitrary header and content-key length opens only when the header
//!   says RSA-OAEP-256 and A256GCM and the key is 256 bits.
//! - `challenge_token`: arbitrary text never opens; a damaged genuine token
//!   never opens; arbitrary claims round-trip.
//! - `json_body`: every JSON request body type, through `parse_json` and the
//!   checks that run before the database: every refusal is a 4xx, and what
//!   parses was a JSON object.
//! - `config`: `Config::from_sources` on arbitrary TOML and `TOKTOK_*`
//!   variables: an error message, never a panic.
//!
//! The first input byte picks a mode where a target has several. The
//! targets of the features after issue 9: [`surface`].

use std::sync::OnceLock;

pub mod surface;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde_json::Value;
use toktok::auth::jwe::RsaKeyring;
use toktok::auth::jwt::{self, Algorithm, Claims, Keyring, TokenKind, Validation};
use toktok::error::{ApiError, FieldError};

const NOW: i64 = 1_800_000_000;
const LEEWAY: i64 = 30;
const HS_SECRET: &[u8] = b"toktok-fuzz-hs256-secret-of-32+bytes";
const KINDS: [TokenKind; 3] = [TokenKind::Access, TokenKind::Refresh, TokenKind::Anonymous];

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Applies the damage described by `spec` to `bytes`: each pair of bytes is
/// (position, xor mask); an odd last byte cuts the text at that position.
fn damage(bytes: &[u8], spec: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        return out;
    }
    let mut pairs = spec.chunks_exact(2);
    for pair in &mut pairs {
        let at = usize::from(pair[0]) * 7 % out.len();
        out[at] ^= pair[1];
    }
    if let [cut] = pairs.remainder() {
        out.truncate(usize::from(*cut) % (out.len() + 1));
    }
    out
}

// ---- JWT ----

fn rings() -> &'static [Keyring; 4] {
    static RINGS: OnceLock<[Keyring; 4]> = OnceLock::new();
    RINGS.get_or_init(|| {
        let asym = |alg| Keyring::new(alg, &jwt::generate_key(alg).unwrap(), &[]).unwrap();
        [
            asym(Algorithm::EdDSA),
            asym(Algorithm::ES256),
            asym(Algorithm::RS256),
            Keyring::hs256(HS_SECRET),
        ]
    })
}

fn validation(kind: TokenKind) -> Validation {
    Validation {
        issuer: "toktok".into(),
        audience: "toktok".into(),
        leeway: LEEWAY,
        kind,
    }
}

/// One genuine token per algorithm and kind.
fn genuine_tokens() -> &'static Vec<Vec<String>> {
    static TOKENS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        rings()
            .iter()
            .map(|ring| {
                KINDS
                    .iter()
                    .map(|&kind| {
                        let claims = Claims {
                            iss: "toktok".into(),
                            aud: "toktok".into(),
                            sub: "user-1".into(),
                            exp: NOW + 900,
                            iat: NOW,
                            nbf: NOW,
                            jti: "jti-1".into(),
                            client_id: (kind == TokenKind::Access)
                                .then(|| jwt::FIRST_PARTY_CLIENT_ID.to_owned()),
                            sid: (kind != TokenKind::Anonymous).then(|| "sid".to_owned()),
                            typ: kind,
                            email: Some("a@example.com".into()),
                            email_verified: Some(true),
                            role: Some("user".into()),
                            auth_time: Some(NOW),
                            amr: Some(vec!["pwd".into()]),
                            aal: Some(1),
                            scope: None,
                        };
                        ring.sign(&claims).unwrap()
                    })
                    .collect()
            })
            .collect()
    })
}

fn hs256_sign(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HS_SECRET);
    let sig = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(sig))
}

pub fn jwt(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            for ring in rings() {
                for kind in KINDS {
                    assert!(ring.verify(&text, &validation(kind), NOW).is_err());
                    assert!(ring.verify_fresh(&text, &validation(kind), NOW).is_err());
                }
            }
        }
        1 => {
            // Header and payload split at the first newline; with mode bit
            // 0x10 the header is the genuine one, so the claims are reached.
            let (header, payload) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (&b""[..], rest),
            };
            let header: &[u8] = if mode & 0x10 != 0 {
                br#"{"alg":"HS256","typ":"JWT"}"#
            } else {
                header
            };
            let token = hs256_sign(header, payload);
            let ring = &rings()[3];
            for kind in KINDS {
                if let Ok(c) = ring.verify(&token, &validation(kind), NOW) {
                    assert_eq!(c.typ, kind);
                    assert!(c.exp + LEEWAY >= NOW, "expired token passed");
                    assert!(c.nbf - LEEWAY <= NOW && c.iat - LEEWAY <= NOW);
                    assert_eq!(c.iss, "toktok");
                    assert_eq!(c.aud, "toktok");
                    let parsed: Value = serde_json::from_slice(payload).expect("payload JSON");
                    assert!(parsed.is_object());
                }
            }
        }
        _ => {
            let [alg, kind, spec @ ..] = rest else {
                return;
            };
            let (alg, kind) = (usize::from(*alg) % 4, usize::from(*kind) % 3);
            let token = &genuine_tokens()[alg][kind];
            let damaged = damage(token.as_bytes(), spec);
            let text = String::from_utf8_lossy(&damaged);
            if text == token.as_str() {
                assert!(rings()[alg]
                    .verify(&text, &validation(KINDS[kind]), NOW)
                    .is_ok());
                return;
            }
            for checked in KINDS {
                let v = validation(checked);
                assert!(
                    rings()[alg].verify(&text, &v, NOW).is_err()
                        && rings()[alg].verify_fresh(&text, &v, NOW).is_err(),
                    "a damaged token passed: {text}"
                );
            }
        }
    }
}

// ---- JWE ----

struct Jwe {
    ring: RsaKeyring,
    public: rsa::RsaPublicKey,
    genuine: String,
}

const JWE_BODY: &[u8] = br#"{"email":"a@example.com","password":"correct horse battery staple"}"#;
const JWE_HEADER: &[u8] = br#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#;

fn jwe_setup() -> &'static Jwe {
    static JWE: OnceLock<Jwe> = OnceLock::new();
    JWE.get_or_init(|| {
        use rsa::pkcs8::DecodePublicKey as _;
        let key = toktok::auth::jwe::generate_key(2048).unwrap();
        let ring = RsaKeyring::from_pkcs8(&key.private_der, &[], 1, 1).unwrap();
        let pem = ring.public_key()["pem"].as_str().unwrap().to_owned();
        let public = rsa::RsaPublicKey::from_public_key_pem(&pem).unwrap();
        let genuine = seal_jwe(&public, JWE_HEADER, &[7; 32], JWE_BODY);
        Jwe {
            ring,
            public,
            genuine,
        }
    })
}

/// A compact JWE: `cek` wrapped with RSA-OAEP-SHA256 for `public`, the body
/// sealed with AES-GCM under it (AES-128 or -256 by its length; any other
/// length seals with a zero 256-bit key, which then cannot match).
fn seal_jwe(public: &rsa::RsaPublicKey, header: &[u8], cek: &[u8], body: &[u8]) -> String {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
    let ek = public
        .encrypt(&mut rand_core::OsRng, rsa::Oaep::new::<sha2::Sha256>(), cek)
        .unwrap();
    let header = b64(header);
    let key = match cek.len() {
        16 => UnboundKey::new(&AES_128_GCM, cek).unwrap(),
        32 => UnboundKey::new(&AES_256_GCM, cek).unwrap(),
        _ => UnboundKey::new(&AES_256_GCM, &[0; 32]).unwrap(),
    };
    let iv = [3u8; 12];
    let mut ct = body.to_vec();
    let tag = LessSafeKey::new(key)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header.as_bytes()),
            &mut ct,
        )
        .unwrap();
    format!("{header}.{}.{}.{}.{}", b64(ek), b64(iv), b64(ct), b64(tag))
}

pub fn jwe(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let setup = jwe_setup();
    match mode % 3 {
        0 => assert!(setup.ring.decrypt_jwe(rest).is_err()),
        1 => {
            let damaged = damage(setup.genuine.as_bytes(), rest);
            let result = setup.ring.decrypt_jwe(&damaged);
            if damaged == setup.genuine.as_bytes() {
                assert_eq!(result.unwrap(), JWE_BODY);
            } else {
                assert!(result.is_err(), "a damaged JWE decrypted");
            }
        }
        _ => {
            // [cek length] header bytes: sealed for the real key.
            let [cek_len, header @ ..] = rest else {
                return;
            };
            let cek = vec![9u8; usize::from(*cek_len % 48)];
            let compact = seal_jwe(&setup.public, header, &cek, JWE_BODY);
            if let Ok(plain) = setup.ring.decrypt_jwe(compact.as_bytes()) {
                assert_eq!(plain, JWE_BODY);
                assert_eq!(cek.len(), 32, "only A256GCM keys are accepted");
                let h: Value = serde_json::from_slice(header).expect("header JSON");
                assert_eq!(h["alg"], "RSA-OAEP-256");
                assert_eq!(h["enc"], "A256GCM");
            }
        }
    }
}

// ---- challenge tokens ----

fn challenge_tokens() -> &'static (toktok::fuzzing::ChallengeTokens, String) {
    static TOKENS: OnceLock<(toktok::fuzzing::ChallengeTokens, String)> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let tokens = toktok::fuzzing::ChallengeTokens::new();
        let genuine = tokens.seal((
            "reset".into(),
            "user-1".into(),
            Some("uid-1".into()),
            "s3cret".into(),
        ));
        (tokens, genuine)
    })
}

pub fn challenge_token(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (tokens, genuine) = challenge_tokens();
    match mode % 3 {
        0 => assert!(tokens.open(&String::from_utf8_lossy(rest)).is_none()),
        1 => {
            // Four NUL-separated fields; no fourth: no uid.
            let mut parts = rest
                .split(|&b| b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned());
            let claims = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next(),
                parts.next().unwrap_or_default(),
            );
            let token = tokens.seal(claims.clone());
            if token.len() <= 8192 {
                assert_eq!(tokens.open(&token), Some(claims));
            }
        }
        _ => {
            let damaged = damage(genuine.as_bytes(), rest);
            let text = String::from_utf8_lossy(&damaged);
            let opened = tokens.open(&text);
            if text == genuine.as_str() {
                assert!(opened.is_some());
            } else {
                assert!(opened.is_none(), "a damaged challenge token opened: {text}");
            }
        }
    }
}

// ---- JSON request bodies ----

fn policy() -> &'static toktok::domain::password::PasswordPolicy {
    static POLICY: OnceLock<toktok::domain::password::PasswordPolicy> = OnceLock::new();
    POLICY.get_or_init(|| toktok::domain::password::PasswordPolicy::new(8, 256))
}

fn client_error(e: &ApiError, body: &[u8]) {
    let (status, code, _) = e.parts();
    assert!(
        status.is_client_error(),
        "{status} {code} for {:?}",
        String::from_utf8_lossy(body)
    );
}

fn fields(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn field(r: Result<(), FieldError>) -> Result<(), ApiError> {
    r.map_err(|e| ApiError::Validation(vec![e]))
}

fn email(field_name: &str, raw: &str) -> Result<toktok::domain::email::Email, ApiError> {
    toktok::domain::email::Email::parse(raw).map_err(|e| ApiError::field(field_name, e.to_string()))
}

fn password(raw: &str, email: Option<&toktok::domain::email::Email>) -> Result<(), ApiError> {
    policy()
        .check(raw, email)
        .map_err(|p| ApiError::WeakPassword(p.to_string()))
}

fn metadata(name: &str, v: &Option<Value>) -> Result<(), ApiError> {
    match v {
        Some(v) => field(toktok::fuzzing::check_metadata(name, v)),
        None => Ok(()),
    }
}

/// Parses `bytes` as `T` the way the extractor does, then runs `check`:
/// every refusal must be a 4xx, and what parsed must have been an object.
fn body<T: DeserializeOwned>(bytes: &[u8], check: impl FnOnce(T) -> Result<(), ApiError>) {
    match toktok::http::extract::parse_json::<T>(bytes) {
        Err(e) => client_error(&e, bytes),
        Ok(value) => {
            let parsed: Value = serde_json::from_slice(bytes).expect("parsed, so JSON");
            assert!(parsed.is_object(), "a non-object parsed as a body");
            if let Err(e) = check(value) {
                client_error(&e, bytes);
            }
        }
    }
}

/// The form path of the link pages (`JsonOrForm`).
fn form<T: DeserializeOwned>(bytes: &[u8]) {
    let _ = serde_urlencoded::from_bytes::<T>(bytes);
}

pub fn json_body(data: &[u8]) {
    use toktok::http::{admin, auth, email as mail, users};
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 16 {
        0 => body(bytes, |b: auth::RegisterBody| {
            let e = email("email", &b.email);
            let mut errors = Vec::new();
            errors.extend(toktok::fuzzing::check_name(&b.name).err());
            if let Some(m) = &b.metadata {
                errors.extend(toktok::fuzzing::check_metadata("metadata", m).err());
            }
            fields(errors)?;
            password(&b.password, Some(&e?))
        }),
        1 => body(bytes, |b: auth::LoginBody| {
            email("email", &b.email).map(drop)
        }),
        2 => body(bytes, |_: auth::RefreshBody| Ok(())),
        3 => body(bytes, |b: users::PatchMeBody| {
            if let Some(name) = &b.name {
                field(toktok::fuzzing::check_name(name))?;
            }
            metadata("metadata", &b.metadata)
        }),
        4 => body(bytes, |b: users::ChangePasswordBody| {
            password(&b.new_password, None)
        }),
        5 => body(bytes, |_: users::DeleteMeBody| Ok(())),
        6 => {
            body(bytes, |_: mail::TokenBody| Ok(()));
            form::<mail::TokenBody>(bytes);
        }
        7 => body(bytes, |b: mail::EmailBody| {
            email("email", &b.email).map(drop)
        }),
        8 => {
            body(bytes, |b: mail::ResetBody| password(&b.password, None));
            form::<mail::ResetBody>(bytes);
        }
        9 => body(bytes, |b: mail::ChangeEmailBody| {
            email("new_email", &b.new_email).map(drop)
        }),
        10 => body(bytes, |b: admin::CreateUserBody| {
            let e = email("email", &b.email)?;
            if let Some(role) = &b.role {
                field(toktok::accounts::admin::check_role(role))?;
            }
            metadata("metadata", &b.metadata)?;
            metadata("app_metadata", &b.app_metadata)?;
            match &b.password {
                Some(p) => password(p, Some(&e)),
                None => Ok(()),
            }
        }),
        11 => body(bytes, |b: admin::PatchUserBody| {
            if let Some(role) = &b.role {
                field(toktok::accounts::admin::check_role(role))?;
            }
            if let Some(name) = &b.name {
                field(toktok::fuzzing::check_name(name))?;
            }
            metadata("metadata", &b.metadata)?;
            metadata("app_metadata", &b.app_metadata)
        }),
        12 | 13 => body(bytes, |p: toktok::challenge::CreateParams| {
            p.validate().map(drop).map_err(ApiError::Validation)
        }),
        _ => body(bytes, |p: toktok::challenge::LookupParams| {
            let _ = p.verify_options();
            p.lookup().map(drop).map_err(ApiError::Validation)
        }),
    }
}

// ---- config ----

/// TOML up to the first NUL; after it, `NAME=value` lines, each name
/// prefixed with `TOKTOK_` unless it already is.
pub fn config(data: &[u8]) {
    let (toml, env) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let toml = String::from_utf8_lossy(toml);
    let env: Vec<(String, String)> = String::from_utf8_lossy(env)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once('=')?;
            let name = if name.starts_with("TOKTOK_") {
                name.to_owned()
            } else {
                format!("TOKTOK_{name}")
            };
            Some((name, value.to_owned()))
        })
        .collect();
    if let Err(e) = toktok::Config::from_sources(Some(&toml), env) {
        assert!(!e.to_string().is_empty());
    }
}
