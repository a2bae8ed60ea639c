//! Tokens are signed by hand here, with keys generated for the test, so
//! each rule is shown refusing a token that differs from a good one in that
//! one way only.

use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, UnparsedPublicKey,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::{json, Map, Value};

use super::apple;
use super::id_token::{
    header_kid, verify, Expected, IdClaims, IdTokenError, MAX_ID_TOKEN_LEN, MAX_SUB_LEN,
};
use super::jwks::{JwksError, ProviderKeys, MAX_KEYS};
use crate::auth::jwt::{generate_key, KeyMaterial};
use crate::domain::algorithm::Algorithm;

const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://accounts.example.com";
const CLIENT: &str = "client-123.apps.example.com";
const NONCE: &str = "n-0S6_WzA2Mj";
const ALGS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RSA key generation is slow: two keys for the whole suite.
fn rsa_key(i: usize) -> &'static KeyMaterial {
    static KEYS: OnceLock<[KeyMaterial; 2]> = OnceLock::new();
    &KEYS.get_or_init(|| {
        [
            generate_key(Algorithm::RS256).unwrap(),
            generate_key(Algorithm::RS256).unwrap(),
        ]
    })[i]
}

fn key(alg: Algorithm) -> KeyMaterial {
    match alg {
        Algorithm::RS256 => rsa_key(0).clone(),
        other => generate_key(other).unwrap(),
    }
}

/// Another key of the same algorithm, under the same `kid` as `of`.
fn impostor(of: &KeyMaterial) -> KeyMaterial {
    let mut other = match of.alg {
        Algorithm::RS256 => rsa_key(1).clone(),
        alg => generate_key(alg).unwrap(),
    };
    other.kid = of.kid.clone();
    other
}

fn signature_of(key: &KeyMaterial, msg: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    match key.alg {
        Algorithm::EdDSA => Ed25519KeyPair::from_pkcs8(&key.private_der)
            .unwrap()
            .sign(msg)
            .as_ref()
            .to_vec(),
        Algorithm::ES256 => {
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.private_der, &rng)
                .unwrap()
                .sign(&rng, msg)
                .unwrap()
                .as_ref()
                .to_vec()
        }
        Algorithm::RS256 => {
            let pair = RsaKeyPair::from_pkcs8(&key.private_der).unwrap();
            let mut sig = vec![0; pair.public().modulus_len()];
            pair.sign(&signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                .unwrap();
            sig
        }
        Algorithm::HS256 => unreachable!("no HS256 keys here"),
    }
}

/// A compact JWS of exactly this header and payload text.
fn sign_raw(key: &KeyMaterial, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = signature_of(key, input.as_bytes());
    format!("{input}.{}", b64(sig))
}

fn sign(key: &KeyMaterial, header: &Value, claims: &Value) -> String {
    sign_raw(key, &header.to_string(), &claims.to_string())
}

fn header(key: &KeyMaterial) -> Value {
    json!({ "alg": key.alg.as_str(), "kid": key.kid, "typ": "JWT" })
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "248289761001",
        "nonce": NONCE,
        "iat": NOW - 10,
        "exp": NOW + 3600,
        "email": "jane@example.com",
        "email_verified": true,
        "name": "Jane Doe",
    })
}

/// [`claims`] with one change.
fn claims_with(change: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut claims = claims();
    change(claims.as_object_mut().unwrap());
    claims
}

fn header_with(key: &KeyMaterial, change: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut header = header(key);
    change(header.as_object_mut().unwrap());
    header
}

fn keys_of(keys: &[&KeyMaterial]) -> ProviderKeys {
    let jwks = json!({ "keys": keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() });
    ProviderKeys::from_jwks(&jwks).unwrap()
}

fn expected() -> Expected<'static> {
    Expected::new(ISSUER, CLIENT, NONCE, NOW)
}

fn check(token: &str, keys: &ProviderKeys) -> Result<IdClaims, IdTokenError> {
    verify(token, keys, &expected())
}

/// Signs `claims` with a fresh ES256 key and verifies against that key.
fn verify_claims(claims: &Value) -> Result<IdClaims, IdTokenError> {
    let key = key(Algorithm::ES256);
    check(&sign(&key, &header(&key), claims), &keys_of(&[&key]))
}

fn invalid(reason: &'static str) -> Result<IdClaims, IdTokenError> {
    Err(IdTokenError::Invalid(reason))
}

// ---- good tokens ----

#[test]
fn a_good_token_of_each_algorithm_verifies() {
    for alg in ALGS {
        let key = key(alg);
        let got = check(&sign(&key, &header(&key), &claims()), &keys_of(&[&key])).unwrap();
        assert_eq!(got.sub, "248289761001", "{alg:?}");
        assert_eq!(got.email.as_deref(), Some("jane@example.com"));
        assert!(got.email_verified);
        assert_eq!(got.name.as_deref(), Some("Jane Doe"));
        assert_eq!(got.claims.get("iss"), Some(&json!(ISSUER)));
    }
}

#[test]
fn the_key_is_picked_by_kid_among_several() {
    let (rsa, ec, ed) = (
        key(Algorithm::RS256),
        key(Algorithm::ES256),
        key(Algorithm::EdDSA),
    );
    let keys = keys_of(&[&rsa, &ec, &ed]);
    for key in [&rsa, &ec, &ed] {
        assert!(check(&sign(key, &header(key), &claims()), &keys).is_ok());
    }
}

#[test]
fn without_kid_the_one_key_of_the_algorithm_is_used() {
    let (rsa, ec) = (key(Algorithm::RS256), key(Algorithm::ES256));
    let no_kid = |key: &KeyMaterial| header_with(key, |h| drop(h.remove("kid")));
    let token = sign(&ec, &no_kid(&ec), &claims());
    assert!(check(&token, &keys_of(&[&rsa, &ec])).is_ok());
    // Two keys of the algorithm: no guessing.
    let ec2 = key(Algorithm::ES256);
    assert_eq!(
        check(&token, &keys_of(&[&ec, &ec2])),
        invalid("no kid and several keys")
    );
    // None of it: perhaps a rotation, so the caller refetches.
    assert_eq!(
        check(&token, &keys_of(&[&rsa])),
        Err(IdTokenError::UnknownKid)
    );
}

#[test]
fn header_members_we_do_not_use_are_ignored() {
    // Microsoft sends x5t (and kid); others send typ or cty.
    let key = key(Algorithm::RS256);
    let header = header_with(&key, |h| {
        h.insert("x5t".into(), json!("nYyO9xT8jK1c3d1mVhAc0c3GbQU"));
        h.insert("typ".into(), json!("at+jwt"));
    });
    assert!(check(&sign(&key, &header, &claims()), &keys_of(&[&key])).is_ok());
}

#[test]
fn a_token_above_our_own_cap_but_within_the_foreign_one_verifies() {
    let claims = claims_with(|c| drop(c.insert("groups".into(), json!("g".repeat(10_000)))));
    let key = key(Algorithm::ES256);
    let token = sign(&key, &header(&key), &claims);
    assert!(token.len() > crate::auth::jwt::MAX_TOKEN_LEN && token.len() < MAX_ID_TOKEN_LEN);
    assert!(check(&token, &keys_of(&[&key])).is_ok());
}

#[test]
fn leeway_is_sixty_seconds() {
    let ok = |claims: Value| verify_claims(&claims).is_ok();
    assert!(ok(claims_with(|c| drop(
        c.insert("exp".into(), json!(NOW - 59))
    ))));
    assert!(ok(claims_with(|c| drop(
        c.insert("iat".into(), json!(NOW + 60))
    ))));
    assert!(ok(claims_with(|c| drop(
        c.insert("nbf".into(), json!(NOW + 60))
    ))));
}

// ---- claims, each refused alone ----

#[test]
fn audience_rules() {
    let with = |change: fn(&mut Map<String, Value>)| verify_claims(&claims_with(change));
    assert_eq!(
        with(|c| drop(c.insert("aud".into(), json!("someone-else")))),
        invalid("wrong audience")
    );
    assert_eq!(
        with(|c| drop(c.insert("aud".into(), json!(["someone-else"])))),
        invalid("wrong audience")
    );
    assert_eq!(with(|c| drop(c.remove("aud"))), invalid("missing aud"));
    assert_eq!(
        with(|c| drop(c.insert("aud".into(), json!([CLIENT, 7])))),
        invalid("aud is not a string or an array of strings")
    );
    // An array of one is fine; of several, azp must name us.
    assert!(with(|c| drop(c.insert("aud".into(), json!([CLIENT])))).is_ok());
    assert_eq!(
        with(|c| drop(c.insert("aud".into(), json!([CLIENT, "other"])))),
        invalid("several audiences and no azp")
    );
    assert!(with(|c| {
        c.insert("aud".into(), json!([CLIENT, "other"]));
        c.insert("azp".into(), json!(CLIENT));
    })
    .is_ok());
    assert_eq!(
        with(|c| {
            c.insert("aud".into(), json!([CLIENT, "other"]));
            c.insert("azp".into(), json!("other"));
        }),
        invalid("wrong azp")
    );
    // azp, when present, must be us even with one audience.
    assert_eq!(
        with(|c| drop(c.insert("azp".into(), json!("other")))),
        invalid("wrong azp")
    );
}

#[test]
fn issuer_must_match_exactly() {
    for iss in [
        json!("https://evil.example.com"),
        json!(format!("{ISSUER}/")),
        json!(1),
    ] {
        assert_eq!(
            verify_claims(&claims_with(|c| drop(c.insert("iss".into(), iss)))),
            invalid("wrong issuer")
        );
    }
    assert_eq!(
        verify_claims(&claims_with(|c| drop(c.remove("iss")))),
        invalid("missing iss")
    );
}

#[test]
fn nonce_must_be_present_and_ours() {
    let with = |change: fn(&mut Map<String, Value>)| verify_claims(&claims_with(change));
    assert_eq!(
        with(|c| drop(c.insert("nonce".into(), json!("n-0S6_WzA2Mk")))),
        invalid("wrong nonce")
    );
    assert_eq!(
        with(|c| drop(c.insert("nonce".into(), json!(NONCE.len())))),
        invalid("wrong nonce")
    );
    assert_eq!(with(|c| drop(c.remove("nonce"))), invalid("missing nonce"));
    assert_eq!(
        with(|c| drop(c.insert("nonce".into(), json!("")))),
        invalid("empty nonce")
    );
    // A flow that forgot its nonce accepts nothing, not everything.
    let key = key(Algorithm::ES256);
    let token = sign(
        &key,
        &header(&key),
        &claims_with(|c| drop(c.insert("nonce".into(), json!("")))),
    );
    let lax = Expected {
        nonce: "",
        ..expected()
    };
    assert_eq!(
        verify(&token, &keys_of(&[&key]), &lax),
        invalid("empty nonce")
    );
}

#[test]
fn times_are_required_integers_and_checked() {
    let with = |change: fn(&mut Map<String, Value>)| verify_claims(&claims_with(change));
    assert_eq!(
        with(|c| drop(c.insert("exp".into(), json!(NOW - 60)))),
        Err(IdTokenError::Expired)
    );
    assert_eq!(with(|c| drop(c.remove("exp"))), invalid("missing exp"));
    assert_eq!(with(|c| drop(c.remove("iat"))), invalid("missing iat"));
    assert_eq!(
        with(|c| drop(c.insert("exp".into(), json!((NOW + 3600).to_string())))),
        invalid("exp is not an integer")
    );
    assert_eq!(
        with(|c| drop(c.insert("exp".into(), json!(1e10)))),
        invalid("exp is not an integer")
    );
    assert_eq!(
        with(|c| drop(c.insert("exp".into(), Value::Null))),
        invalid("exp is not an integer")
    );
    assert_eq!(
        with(|c| drop(c.insert("iat".into(), json!(NOW + 61)))),
        invalid("issued in the future")
    );
    assert_eq!(
        with(|c| drop(c.insert("iat".into(), json!("1700000000")))),
        invalid("iat is not an integer")
    );
    assert_eq!(
        with(|c| drop(c.insert("nbf".into(), json!(NOW + 61)))),
        invalid("not yet valid")
    );
    assert_eq!(
        with(|c| drop(c.insert("nbf".into(), json!("0")))),
        invalid("nbf is not an integer")
    );
    // Expired means only that: a token also wrong elsewhere says so.
    assert_eq!(
        with(|c| {
            c.insert("exp".into(), json!(NOW - 3600));
            c.insert("aud".into(), json!("other"));
        }),
        invalid("wrong audience")
    );
}

#[test]
fn sub_is_a_non_empty_string_of_at_most_255_bytes() {
    let with = |sub: Option<Value>| {
        verify_claims(&claims_with(|c| match sub {
            Some(sub) => drop(c.insert("sub".into(), sub)),
            None => drop(c.remove("sub")),
        }))
    };
    assert_eq!(with(None), invalid("missing sub"));
    let wrong = invalid("sub is not a string of 1 to 255 bytes");
    assert_eq!(with(Some(json!(""))), wrong);
    assert_eq!(with(Some(json!(1234))), wrong);
    assert_eq!(with(Some(json!("x".repeat(MAX_SUB_LEN + 1)))), wrong);
    assert_eq!(
        with(Some(json!("x".repeat(MAX_SUB_LEN))))
            .unwrap()
            .sub
            .len(),
        255
    );
}

#[test]
fn email_verified_is_a_bool_or_apples_strings() {
    let verified = |value: Value| {
        verify_claims(&claims_with(|c| {
            drop(c.insert("email_verified".into(), value))
        }))
        .unwrap()
        .email_verified
    };
    assert!(verified(json!(true)));
    assert!(verified(json!("true")));
    assert!(!verified(json!(false)));
    assert!(!verified(json!("false")));
    assert!(!verified(json!("yes")));
    assert!(!verified(json!("TRUE")));
    assert!(!verified(json!(1)));
    assert!(!verified(Value::Null));
    assert!(
        !verify_claims(&claims_with(|c| drop(c.remove("email_verified"))))
            .unwrap()
            .email_verified
    );
    // Nothing to vouch for without an email.
    let got = verify_claims(&claims_with(|c| drop(c.remove("email")))).unwrap();
    assert_eq!((got.email, got.email_verified), (None, false));
}

#[test]
fn email_and_name_are_strings_or_absent() {
    let with = |change: fn(&mut Map<String, Value>)| verify_claims(&claims_with(change));
    assert_eq!(
        with(|c| drop(c.insert("email".into(), json!(["a@example.com"])))),
        invalid("email is not a string")
    );
    assert_eq!(
        with(|c| drop(c.insert("name".into(), json!({ "given": "Jane" })))),
        invalid("name is not a string")
    );
    let got = with(|c| {
        c.insert("email".into(), Value::Null);
        c.remove("name");
    })
    .unwrap();
    assert_eq!(
        (got.email, got.name, got.email_verified),
        (None, None, false)
    );
}

// ---- header and signature ----

#[test]
fn a_token_signed_by_another_key_under_the_same_kid_is_refused() {
    for alg in ALGS {
        let key = key(alg);
        let token = sign(&impostor(&key), &header(&key), &claims());
        assert_eq!(
            check(&token, &keys_of(&[&key])),
            invalid("bad signature"),
            "{alg:?}"
        );
    }
}

#[test]
fn an_unknown_kid_asks_for_a_refetch() {
    let (known, unknown) = (key(Algorithm::ES256), key(Algorithm::ES256));
    let keys = keys_of(&[&known]);
    let token = sign(&unknown, &header(&unknown), &claims());
    assert_eq!(header_kid(&token), Ok(Some(unknown.kid.clone())));
    assert!(!keys.has_kid(&unknown.kid) && keys.has_kid(&known.kid));
    assert_eq!(check(&token, &keys), Err(IdTokenError::UnknownKid));
    // With the refetched set it verifies.
    assert!(check(&token, &keys_of(&[&known, &unknown])).is_ok());
}

#[test]
fn header_kid_reads_only_the_header() {
    let key = key(Algorithm::EdDSA);
    let no_kid = header_with(&key, |h| drop(h.remove("kid")));
    assert_eq!(header_kid(&sign(&key, &no_kid, &claims())), Ok(None));
    let bad_kid = header_with(&key, |h| drop(h.insert("kid".into(), json!(7))));
    assert_eq!(
        header_kid(&sign(&key, &bad_kid, &claims())),
        Err(IdTokenError::Invalid("kid is not a string"))
    );
    assert_eq!(header_kid("a.b"), Err(IdTokenError::Malformed));
}

#[test]
fn alg_none_is_refused() {
    let key = key(Algorithm::RS256);
    let keys = keys_of(&[&key]);
    let none = json!({ "alg": "none", "kid": key.kid });
    let unsigned = format!("{}.{}.", b64(none.to_string()), b64(claims().to_string()));
    assert_eq!(check(&unsigned, &keys), Err(IdTokenError::Malformed));
    let with_sig = format!("{unsigned}AAAA");
    assert_eq!(check(&with_sig, &keys), invalid("algorithm not allowed"));
    let listed = Expected {
        algs: &["none", "RS256"],
        ..expected()
    };
    assert_eq!(
        verify(&with_sig, &keys, &listed),
        invalid("algorithm not supported")
    );
}

#[test]
fn hs256_keyed_with_the_rsa_public_key_is_refused() {
    let key = key(Algorithm::RS256);
    let keys = keys_of(&[&key]);
    let public_der = RsaKeyPair::from_pkcs8(&key.private_der)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let secrets = [public_der, key.public_jwk.to_string().into_bytes()];
    for secret in secrets {
        let header = json!({ "alg": "HS256", "kid": key.kid, "typ": "JWT" });
        let input = format!("{}.{}", b64(header.to_string()), b64(claims().to_string()));
        let mac = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        let token = format!("{input}.{}", b64(mac));
        assert_eq!(check(&token, &keys), invalid("algorithm not allowed"));
        let listed = Expected {
            algs: &["RS256", "HS256"],
            ..expected()
        };
        assert_eq!(
            verify(&token, &keys, &listed),
            invalid("algorithm not supported")
        );
    }
}

#[test]
fn an_algorithm_outside_the_allowed_list_is_refused() {
    let key = key(Algorithm::ES256);
    let token = sign(&key, &header(&key), &claims());
    let rsa_only = Expected {
        algs: &["RS256"],
        ..expected()
    };
    assert_eq!(
        verify(&token, &keys_of(&[&key]), &rsa_only),
        invalid("algorithm not allowed")
    );
    let none = Expected {
        algs: &[],
        ..expected()
    };
    assert_eq!(
        verify(&token, &keys_of(&[&key]), &none),
        invalid("algorithm not allowed")
    );
    let missing = header_with(&key, |h| drop(h.remove("alg")));
    assert_eq!(
        check(&sign(&key, &missing, &claims()), &keys_of(&[&key])),
        invalid("missing alg")
    );
}

#[test]
fn the_header_alg_must_be_the_keys() {
    // The JWK (alg RS256) is named, but the header says ES256 and an EC
    // key signed: refused before any signature check.
    let rsa = key(Algorithm::RS256);
    let mut ec = key(Algorithm::ES256);
    ec.kid = rsa.kid.clone();
    let token = sign(&ec, &header(&ec), &claims());
    assert_eq!(
        check(&token, &keys_of(&[&rsa])),
        invalid("alg is not the key's")
    );
    // The same, with an EdDSA header on a P-256 JWK without `alg`.
    let mut ec_no_alg = key(Algorithm::ES256);
    ec_no_alg.public_jwk.as_object_mut().unwrap().remove("alg");
    let mut ed = key(Algorithm::EdDSA);
    ed.kid = ec_no_alg.kid.clone();
    let token = sign(&ed, &header(&ed), &claims());
    assert_eq!(
        check(&token, &keys_of(&[&ec_no_alg])),
        invalid("alg is not the key's")
    );
    // A JWK whose alg is not its type's is never used (skipped).
    let mut odd = key(Algorithm::ES256);
    odd.public_jwk["alg"] = json!("RS256");
    let keys = keys_of(&[&rsa, &odd]);
    assert_eq!(keys.len(), 1);
    let token = sign(&odd, &header(&odd), &claims());
    assert_eq!(check(&token, &keys), Err(IdTokenError::UnknownKid));
}

#[test]
fn key_material_in_the_header_is_refused() {
    let key = key(Algorithm::RS256);
    let keys = keys_of(&[&key]);
    for (name, value) in [
        ("jwk", key.public_jwk.clone()),
        ("jku", json!("https://evil.example.com/jwks.json")),
        ("x5u", json!("https://evil.example.com/cert.pem")),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIUY"])),
        ("crit", json!(["exp"])),
    ] {
        let header = header_with(&key, |h| drop(h.insert(name.into(), value)));
        assert_eq!(
            check(&sign(&key, &header, &claims()), &keys),
            invalid("forbidden header parameter"),
            "{name}"
        );
    }
}

#[test]
fn duplicate_json_members_are_refused() {
    let key = key(Algorithm::ES256);
    let keys = keys_of(&[&key]);
    let text = claims().to_string();
    let twice = text.replacen("{", r#"{"sub":"someone-else","#, 1);
    let token = sign_raw(&key, &header(&key).to_string(), &twice);
    assert_eq!(check(&token, &keys), invalid("duplicate JSON member"));
    let header = header(&key)
        .to_string()
        .replacen("{", r#"{"alg":"none","#, 1);
    let token = sign_raw(&key, &header, &text);
    assert_eq!(check(&token, &keys), invalid("duplicate JSON member"));
}

#[test]
fn a_truncated_signature_is_refused() {
    for alg in ALGS {
        let key = key(alg);
        let token = sign(&key, &header(&key), &claims());
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        sig.pop();
        let truncated = format!("{input}.{}", b64(&sig));
        assert_eq!(
            check(&truncated, &keys_of(&[&key])),
            invalid("bad signature")
        );
        assert_eq!(
            check(&format!("{input}."), &keys_of(&[&key])),
            Err(IdTokenError::Malformed)
        );
    }
}

#[test]
fn non_canonical_base64_is_refused() {
    // Every signature here is 64 or 256 bytes, so its last character
    // carries four unused bits: setting one changes the text, not the
    // bytes a lenient decoder would see.
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for alg in ALGS {
        let key = key(alg);
        let token = sign(&key, &header(&key), &claims());
        let last = ALPHABET.find(token.chars().last().unwrap()).unwrap();
        let odd = ALPHABET.chars().nth(last | 1).unwrap();
        let tweaked = format!("{}{odd}", &token[..token.len() - 1]);
        assert_ne!(tweaked, token);
        assert_eq!(
            check(&tweaked, &keys_of(&[&key])),
            Err(IdTokenError::Malformed)
        );
        let (header_b64, rest) = token.split_once('.').unwrap();
        let padded = format!("{header_b64}=.{rest}");
        assert_eq!(
            check(&padded, &keys_of(&[&key])),
            Err(IdTokenError::Malformed)
        );
    }
}

#[test]
fn malformed_tokens_are_malformed() {
    let key = key(Algorithm::ES256);
    let keys = keys_of(&[&key]);
    let token = sign(&key, &header(&key), &claims());
    for bad in [
        String::new(),
        "a.b".to_string(),
        format!("{token}.AAAA"),
        token.replacen('.', " .", 1),
        sign_raw(&key, &header(&key).to_string(), "not json"),
        sign_raw(&key, &header(&key).to_string(), "[1,2]"),
        sign_raw(&key, "[]", &claims().to_string()),
    ] {
        assert_eq!(check(&bad, &keys), Err(IdTokenError::Malformed), "{bad}");
    }
}

#[test]
fn a_token_over_the_size_cap_is_refused_before_anything_else() {
    let key = key(Algorithm::ES256);
    let claims = claims_with(|c| drop(c.insert("pad".into(), json!("p".repeat(MAX_ID_TOKEN_LEN)))));
    let token = sign(&key, &header(&key), &claims);
    assert_eq!(
        check(&token, &keys_of(&[&key])),
        Err(IdTokenError::Malformed)
    );
    assert_eq!(header_kid(&token), Err(IdTokenError::Malformed));
}

// ---- JWKS ----

#[test]
fn jwks_keeps_signature_keys_and_skips_the_rest() {
    let (rsa, ec, ed) = (
        key(Algorithm::RS256),
        key(Algorithm::ES256),
        key(Algorithm::EdDSA),
    );
    let with = |key: &KeyMaterial, name: &str, value: Value| {
        let mut jwk = key.public_jwk.clone();
        jwk[name] = value;
        jwk
    };
    let small_n = {
        let mut n = vec![0xc3u8; 128];
        n[127] |= 1;
        b64(n)
    };
    let jwks = json!({ "keys": [
        rsa.public_jwk,
        ec.public_jwk,
        ed.public_jwk,
        with(&rsa, "use", json!("enc")),
        with(&rsa, "d", json!("AQAB")),
        with(&ec, "d", json!("AQAB")),
        with(&rsa, "n", json!(small_n)),
        with(&rsa, "e", json!("AAE")),
        with(&rsa, "e", json!(b64([1, 0, 0, 0, 0, 1]))),
        with(&rsa, "alg", json!("PS256")),
        with(&rsa, "alg", json!("RS512")),
        with(&rsa, "kid", json!(42)),
        with(&rsa, "key_ops", json!(["encrypt"])),
        with(&ec, "crv", json!("P-384")),
        with(&ec, "x", json!("AAAA")),
        with(&ed, "crv", json!("X25519")),
        with(&ed, "alg", json!("ES256")),
        { "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" },
        { "kty": "RSA", "kid": "no-n", "e": "AQAB" },
        "not an object",
    ]});
    let keys = ProviderKeys::from_jwks(&jwks).unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.has_kid(&rsa.kid) && keys.has_kid(&ec.kid) && keys.has_kid(&ed.kid));
    assert!(!keys.has_kid("hmac") && !keys.is_empty());
}

#[test]
fn jwks_without_a_usable_key_is_refused() {
    let rsa = key(Algorithm::RS256);
    let mut enc = rsa.public_jwk.clone();
    enc["use"] = json!("enc");
    assert_eq!(
        ProviderKeys::from_jwks(&json!({ "keys": [enc] })).unwrap_err(),
        JwksError::NoUsableKey
    );
    assert_eq!(
        ProviderKeys::from_jwks(&json!({ "keys": [] })).unwrap_err(),
        JwksError::NoUsableKey
    );
    for not_a_set in [
        json!([rsa.public_jwk]),
        json!({ "keys": {} }),
        json!({}),
        json!("x"),
    ] {
        assert_eq!(
            ProviderKeys::from_jwks(&not_a_set).unwrap_err(),
            JwksError::NotAKeySet
        );
    }
    let many = vec![rsa.public_jwk.clone(); MAX_KEYS + 1];
    assert_eq!(
        ProviderKeys::from_jwks(&json!({ "keys": many })).unwrap_err(),
        JwksError::TooManyKeys(MAX_KEYS + 1)
    );
}

#[test]
fn an_rsa_modulus_with_a_leading_zero_octet_is_the_same_key() {
    let key = key(Algorithm::RS256);
    let n = URL_SAFE_NO_PAD
        .decode(key.public_jwk["n"].as_str().unwrap())
        .unwrap();
    let mut jwk = key.public_jwk.clone();
    jwk["n"] = json!(b64([&[0u8][..], &n].concat()));
    let keys = ProviderKeys::from_jwks(&json!({ "keys": [jwk] })).unwrap();
    assert!(check(&sign(&key, &header(&key), &claims()), &keys).is_ok());
}

/// Google's JWKS and ID token, in their published shape (two RSA keys, with
/// `e` first and `use`), our keys in place of Google's.
#[test]
fn a_google_shaped_token_verifies() {
    let (current, next) = (rsa_key(0), rsa_key(1));
    let jwk = |k: &KeyMaterial| {
        format!(
            r#"{{"e":{},"alg":"RS256","kid":"{}","n":{},"kty":"RSA","use":"sig"}}"#,
            k.public_jwk["e"], k.kid, k.public_jwk["n"]
        )
    };
    let text = format!(r#"{{"keys":[{},{}]}}"#, jwk(next), jwk(current));
    let jwks: Value = serde_json::from_str(&text).unwrap();
    let keys = ProviderKeys::from_jwks(&jwks).unwrap();
    assert_eq!(keys.len(), 2);
    let google = "https://accounts.google.com";
    let client = "1234987819200.apps.googleusercontent.com";
    let claims = json!({
        "iss": google,
        "azp": client,
        "aud": client,
        "sub": "110169484474386276334",
        "hd": "example.com",
        "email": "jane@example.com",
        "email_verified": true,
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
        "nonce": NONCE,
        "name": "Jane Doe",
        "picture": "https://lh3.googleusercontent.com/a/photo",
        "given_name": "Jane",
        "family_name": "Doe",
        "iat": NOW - 5,
        "exp": NOW + 3595,
    });
    let header = json!({ "alg": "RS256", "kid": current.kid, "typ": "JWT" });
    let token = sign(current, &header, &claims);
    let got = verify(&token, &keys, &Expected::new(google, client, NONCE, NOW)).unwrap();
    assert_eq!(got.sub, "110169484474386276334");
    assert!(got.email_verified);
    assert_eq!(got.claims["hd"], json!("example.com"));
}

/// Microsoft's JWKS carries certificates (`x5c`, `x5t`) and an `issuer` in
/// each key; Apple's ID tokens say `email_verified` as a string.
#[test]
fn microsoft_shaped_keys_and_apple_shaped_claims_verify() {
    let key = rsa_key(0);
    let jwks = json!({ "keys": [{
        "kty": "RSA",
        "use": "sig",
        "kid": key.kid,
        "x5t": "nYyO9xT8jK1c3d1mVhAc0c3GbQU",
        "n": key.public_jwk["n"],
        "e": key.public_jwk["e"],
        "x5c": ["MIIC/TCCAeWgAwIBAgIIUd7j/OIahkYwDQYJKoZIhvcNAQELBQAw"],
        "cloud_instance_name": "microsoftonline.com",
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
    }]});
    let keys = ProviderKeys::from_jwks(&jwks).unwrap();
    let apple = "https://appleid.apple.com";
    let claims = json!({
        "iss": apple,
        "aud": "com.example.web",
        "exp": NOW + 600,
        "iat": NOW,
        "sub": "001234.0123456789abcdef0123456789abcdef.1234",
        "nonce": NONCE,
        "c_hash": "Ecq8X4PVYqoGPL7Qp6lZBQ",
        "email": "abc123@privaterelay.appleid.com",
        "email_verified": "true",
        "is_private_email": "true",
        "auth_time": NOW,
        "nonce_supported": true,
    });
    let header = json!({ "kid": key.kid, "alg": "RS256" });
    let token = sign(key, &header, &claims);
    let got = verify(
        &token,
        &keys,
        &Expected::new(apple, "com.example.web", NONCE, NOW),
    )
    .unwrap();
    assert!(got.email_verified);
    assert_eq!(got.claims["is_private_email"], json!("true"));
}

// ---- Apple client secret ----

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// ring's PKCS#8 for P-256 rewritten in the layout of Apple's .p8 files,
/// which also carry the curve in the inner ECPrivateKey (`[0]`).
fn apple_shaped(ring_der: &[u8]) -> Vec<u8> {
    assert_eq!(ring_der.len(), 138);
    assert_eq!(&ring_der[68..73], &[0xa1, 0x44, 0x03, 0x42, 0x00]);
    let (private, public) = (&ring_der[36..68], &ring_der[73..138]);
    let mut der = vec![0x30, 0x81, 0x93, 0x02, 0x01, 0x00];
    der.extend_from_slice(&ring_der[6..27]); // the algorithm identifier
    der.extend_from_slice(&[0x04, 0x79, 0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20]);
    der.extend_from_slice(private);
    let p256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    der.extend_from_slice(&[0xa0, 0x0a, 0x06, 0x08]);
    der.extend_from_slice(&p256);
    der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    der.extend_from_slice(public);
    der
}

#[test]
fn the_apple_client_secret_verifies_with_the_p8_public_key() {
    let rng = SystemRandom::new();
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref(), &rng).unwrap();
    let p8 = pem(&apple_shaped(der.as_ref()));
    assert!(p8.contains("MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg"));
    for pem in [p8.clone(), p8.replace('\n', "\r\n"), pem(der.as_ref())] {
        apple::check_private_key(&pem).unwrap();
        let secret =
            apple::client_secret("TEAM123456", "KEY1234567", "com.example.web", &pem, NOW).unwrap();
        let (input, sig) = secret.rsplit_once('.').unwrap();
        UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            pair.public_key().as_ref(),
        )
        .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
        .unwrap();
        let (header, claims) = input.split_once('.').unwrap();
        let json = |s: &str| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap()
        };
        assert_eq!(json(header), json!({ "alg": "ES256", "kid": "KEY1234567" }));
        assert_eq!(
            json(claims),
            json!({
                "iss": "TEAM123456",
                "iat": NOW,
                "exp": NOW + apple::SECRET_LIFETIME,
                "aud": "https://appleid.apple.com",
                "sub": "com.example.web",
            })
        );
    }
}

#[test]
fn a_key_that_is_not_a_p8_p256_key_is_refused() {
    let rng = SystemRandom::new();
    let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let rsa = &rsa_key(0).private_der;
    let p256 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let good = pem(p256.as_ref());
    for bad in [
        pem(ed.as_ref()),
        pem(rsa),
        good.replace("PRIVATE KEY", "EC PRIVATE KEY"),
        good.replacen('M', "*", 1),
        format!("{good}trailing"),
        good.lines().take(2).collect::<Vec<_>>().join("\n"),
        String::new(),
    ] {
        assert!(apple::check_private_key(&bad).is_err(), "{bad}");
        assert!(apple::client_secret("T", "K", "C", &bad, NOW).is_err());
    }
    let err = apple::client_secret("", "K", "C", &good, NOW).unwrap_err();
    assert_eq!(err, "the Apple team id is empty");
}
