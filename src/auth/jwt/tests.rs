use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use ring::digest;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{json, Value};

use super::keyring::{VerifyMemo, MEMO_CAPACITY};
use super::keys::PRIVATE_JWK_MEMBERS;
use super::*;

const NOW: i64 = 1_700_000_000;
const SECRET: &[u8] = b"an-hs256-test-secret-of-at-least-32-bytes!";
const ALL_ASYMMETRIC: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];
const ALL_KINDS: [TokenKind; 3] = [TokenKind::Access, TokenKind::Refresh, TokenKind::Anonymous];

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RSA key generation is slow: one RS256 key for the whole suite.
fn rs256_key() -> &'static KeyMaterial {
    static KEY: OnceLock<KeyMaterial> = OnceLock::new();
    KEY.get_or_init(|| generate_key(Algorithm::RS256).unwrap())
}

fn key_for(alg: Algorithm) -> KeyMaterial {
    match alg {
        Algorithm::RS256 => rs256_key().clone(),
        other => generate_key(other).unwrap(),
    }
}

fn ring_for(alg: Algorithm) -> Keyring {
    match alg {
        Algorithm::HS256 => Keyring::hs256(SECRET),
        other => Keyring::new(other, &key_for(other), &[]).unwrap(),
    }
}

/// One shared keyring per algorithm, for the property tests.
fn shared_ring(alg: Algorithm) -> &'static Keyring {
    static RINGS: OnceLock<[Keyring; 4]> = OnceLock::new();
    let rings = RINGS.get_or_init(|| {
        [
            ring_for(Algorithm::EdDSA),
            ring_for(Algorithm::ES256),
            ring_for(Algorithm::RS256),
            ring_for(Algorithm::HS256),
        ]
    });
    &rings[alg as usize]
}

fn all_rings() -> Vec<&'static Keyring> {
    [
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::RS256,
        Algorithm::HS256,
    ]
    .into_iter()
    .map(shared_ring)
    .collect()
}

fn claims(kind: TokenKind) -> Claims {
    Claims {
        iss: "toktok".into(),
        aud: "toktok-api".into(),
        sub: "0190f1a2-0000-7000-8000-000000000001".into(),
        exp: NOW + 900,
        iat: NOW,
        nbf: NOW,
        jti: "jti-1".into(),
        client_id: (kind == TokenKind::Access).then(|| FIRST_PARTY_CLIENT_ID.into()),
        sid: Some("sid-1".into()),
        typ: kind,
        email: Some("ada@example.com".into()),
        email_verified: Some(true),
        role: Some("user".into()),
        auth_time: Some(NOW - 60),
        amr: Some(vec!["pwd".into()]),
        aal: Some(1),
        scope: None,
    }
}

fn validation(kind: TokenKind) -> Validation {
    Validation {
        issuer: "toktok".into(),
        audience: "toktok-api".into(),
        leeway: 30,
        kind,
    }
}

fn access() -> Validation {
    validation(TokenKind::Access)
}

/// The payload of `claims(Access)` as a JSON value, to tamper with.
fn payload_value() -> Value {
    serde_json::to_value(claims(TokenKind::Access)).unwrap()
}

/// A correctly signed token with an arbitrary header and payload, so the
/// header and claim rules are tested on their own, not via the signature.
fn forge(ring: &Keyring, header: &Value, payload: &Value) -> String {
    ring.sign_parts(&b64(header.to_string()), payload.to_string().as_bytes())
        .unwrap()
}

/// The header of an access token (which `payload_value` is).
fn std_header(ring: &Keyring) -> Value {
    json!({ "alg": ring.algorithm().as_str(), "kid": ring.active_kid(), "typ": ACCESS_TOKEN_TYP })
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

fn invalid(r: Result<Claims, JwtError>) -> bool {
    matches!(r, Err(JwtError::Invalid(_)))
}

// ---- algorithm, keys, keyring construction -------------------------

#[test]
fn a_remembered_token_is_still_checked_against_the_clock_and_the_rules() {
    for alg in [
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::RS256,
        Algorithm::HS256,
    ] {
        let ring = ring_for(alg);
        let mut c = claims(TokenKind::Access);
        c.exp = NOW + 60;
        let token = ring.sign(&c).unwrap();
        assert!(ring.verify(&token, &access(), NOW).is_ok());
        assert_eq!(
            ring.memo().current.len(),
            1,
            "an access token is remembered"
        );
        // Served from the memo, yet expiry, kind and audience still count.
        assert_eq!(
            ring.verify(&token, &access(), NOW + 60 + MAX_LEEWAY + 1),
            Err(JwtError::Expired)
        );
        assert!(invalid(ring.verify(
            &token,
            &validation(TokenKind::Refresh),
            NOW
        )));
        let mut other = access();
        other.audience = "someone-else".into();
        assert!(invalid(ring.verify(&token, &other, NOW)));
        assert!(ring.verify(&token, &access(), NOW).is_ok());
    }
}

#[test]
fn only_verified_access_tokens_are_remembered() {
    let ring = ring_for(Algorithm::EdDSA);
    let token = ring.sign(&claims(TokenKind::Access)).unwrap();
    // A changed signature is another text: checked, refused, not kept.
    let mut parts = segments(&token);
    parts[2] = b64([0u8; 64]);
    let forged = parts.join(".");
    assert!(invalid(ring.verify(&forged, &access(), NOW)));
    let refresh = ring.sign(&claims(TokenKind::Refresh)).unwrap();
    ring.verify(&refresh, &validation(TokenKind::Refresh), NOW)
        .unwrap();
    assert!(ring.memo().current.is_empty());
    assert!(ring.memo().previous.is_empty());
    ring.verify(&token, &access(), NOW).unwrap();
    assert!(
        invalid(ring.verify(&forged, &access(), NOW)),
        "still refused"
    );
}

#[test]
fn the_memo_keeps_two_generations() {
    let mut memo = VerifyMemo::default();
    let ring = ring_for(Algorithm::HS256);
    let wire = ring
        .verify_signature(&ring.sign(&claims(TokenKind::Access)).unwrap())
        .unwrap();
    for i in 0..MEMO_CAPACITY {
        memo.insert(format!("t{i}"), wire.clone());
    }
    memo.insert("last".into(), wire.clone());
    assert_eq!(memo.current.len(), 1);
    assert_eq!(memo.previous.len(), MEMO_CAPACITY);
    // A hit in the old generation moves the token to the new one.
    assert!(memo.get("t5").is_some());
    assert!(memo.current.contains_key("t5"));
    assert!(!memo.previous.contains_key("t5"));
    assert!(memo.get("never").is_none());
}

#[test]
fn algorithm_names_match_config_strings() {
    for (alg, name) in [
        (Algorithm::EdDSA, "EdDSA"),
        (Algorithm::ES256, "ES256"),
        (Algorithm::RS256, "RS256"),
        (Algorithm::HS256, "HS256"),
    ] {
        assert_eq!(alg.as_str(), name);
        assert_eq!(serde_json::to_value(alg).unwrap(), json!(name));
        assert_eq!(
            serde_json::from_value::<Algorithm>(json!(name)).unwrap(),
            alg
        );
    }
    for (kind, name) in [
        (TokenKind::Access, "access"),
        (TokenKind::Refresh, "refresh"),
        (TokenKind::Anonymous, "anonymous"),
    ] {
        assert_eq!(kind.as_str(), name);
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
    }
}

#[test]
fn generated_keys_have_random_url_safe_kids_and_public_jwks() {
    for alg in ALL_ASYMMETRIC {
        let km = key_for(alg);
        assert_eq!(km.alg, alg);
        assert_eq!(km.kid.len(), 22, "16 bytes, base64url, no padding");
        assert_eq!(URL_SAFE_NO_PAD.decode(&km.kid).unwrap().len(), 16);
        assert_eq!(km.public_jwk["kid"], json!(km.kid));
        assert_eq!(km.public_jwk["alg"], json!(alg.as_str()));
        assert_eq!(km.public_jwk["use"], json!("sig"));
        assert!(!km.private_der.is_empty());
    }
    assert_ne!(
        generate_key(Algorithm::EdDSA).unwrap().kid,
        generate_key(Algorithm::EdDSA).unwrap().kid
    );
    assert!(matches!(
        generate_key(Algorithm::HS256),
        Err(JwtError::Key(_))
    ));
}

#[test]
fn key_material_debug_redacts_the_private_key() {
    let km = key_for(Algorithm::EdDSA);
    let shown = format!("{km:?}");
    assert!(shown.contains("[redacted]"));
    assert!(shown.contains(&km.kid));
    assert!(!shown.contains(&format!("{:?}", km.private_der)));
    assert!(!shown.contains("private_der: ["));
    let ring = ring_for(Algorithm::EdDSA);
    assert!(format!("{ring:?}").contains(ring.active_kid()));
}

#[test]
fn keyring_is_send_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Keyring>();
    assert_send_sync::<std::sync::Arc<Keyring>>();
}

#[test]
fn keyring_refuses_mixed_algorithms_and_hs256_material() {
    let ed = key_for(Algorithm::EdDSA);
    let es = key_for(Algorithm::ES256);
    assert!(matches!(
        Keyring::new(Algorithm::ES256, &ed, &[]),
        Err(JwtError::Key(_))
    ));
    assert!(matches!(
        Keyring::new(Algorithm::EdDSA, &ed, std::slice::from_ref(&es)),
        Err(JwtError::Key(_))
    ));
    assert!(matches!(
        Keyring::new(Algorithm::HS256, &ed, &[]),
        Err(JwtError::Key(_))
    ));
    // DER of one algorithm labelled as another.
    let mut relabelled = es;
    relabelled.alg = Algorithm::EdDSA;
    assert!(matches!(
        Keyring::new(Algorithm::EdDSA, &relabelled, &[]),
        Err(JwtError::Key(_))
    ));
}

#[test]
fn keyring_refuses_duplicate_kids_and_bad_stored_jwks() {
    let ed = key_for(Algorithm::EdDSA);
    assert!(matches!(
        Keyring::new(Algorithm::EdDSA, &ed, std::slice::from_ref(&ed)),
        Err(JwtError::Key(_))
    ));
    let mut garbage = ed.clone();
    garbage.private_der = vec![0x30, 0x03, 0x02, 0x01, 0x00];
    assert!(matches!(
        Keyring::new(Algorithm::EdDSA, &garbage, &[]),
        Err(JwtError::Key(_))
    ));
    // A public JWK belonging to another key.
    let mut swapped = ed.clone();
    swapped.public_jwk = key_for(Algorithm::EdDSA).public_jwk;
    assert!(matches!(
        Keyring::new(Algorithm::EdDSA, &swapped, &[]),
        Err(JwtError::Key(_))
    ));
    // A "public" JWK with a private member.
    let mut leaky = ed.clone();
    leaky.public_jwk["d"] = json!("AAAA");
    assert!(matches!(
        Keyring::new(Algorithm::EdDSA, &leaky, &[]),
        Err(JwtError::Key(_))
    ));
    let mut empty_kid = ed;
    empty_kid.kid.clear();
    assert!(Keyring::new(Algorithm::EdDSA, &empty_kid, &[]).is_err());
}

#[test]
fn hs256_kid_is_derived_from_the_secret_hash() {
    let ring = Keyring::hs256(SECRET);
    let hash = digest::digest(&digest::SHA256, SECRET);
    let expected: String = hash.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(ring.active_kid(), format!("hs-{expected}"));
    assert_eq!(ring.active_kid().len(), 11);
    assert_eq!(ring.algorithm(), Algorithm::HS256);
    assert_ne!(
        Keyring::hs256(b"another-secret-of-at-least-32-bytes!!").active_kid(),
        ring.active_kid()
    );
}

// ---- signing and round trips --------------------------------------

#[test]
fn signed_header_is_alg_kid_typ_only() {
    for ring in all_rings() {
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let parts = segments(&token);
        assert_eq!(parts.len(), 3);
        assert!(!token.contains('='));
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[0]).unwrap()).unwrap();
        assert_eq!(header, std_header(ring));
    }
}

#[test]
fn sign_then_verify_round_trips_for_every_algorithm_and_kind() {
    for ring in all_rings() {
        for kind in ALL_KINDS {
            let c = claims(kind);
            let token = ring.sign(&c).unwrap();
            assert_eq!(
                ring.verify(&token, &validation(kind), NOW).unwrap(),
                c,
                "{:?}",
                ring.algorithm()
            );
        }
    }
}

#[test]
fn optional_claims_are_omitted_when_absent() {
    let mut c = claims(TokenKind::Refresh);
    c.email = None;
    c.email_verified = None;
    c.role = None;
    let value = serde_json::to_value(&c).unwrap();
    for name in ["email", "email_verified", "role"] {
        assert!(value.get(name).is_none());
    }
    assert_eq!(value["typ"], json!("refresh"));
    let ring = shared_ring(Algorithm::EdDSA);
    let token = ring.sign(&c).unwrap();
    assert_eq!(
        ring.verify(&token, &validation(TokenKind::Refresh), NOW)
            .unwrap(),
        c
    );
}

#[test]
fn retired_keys_verify_but_do_not_sign() {
    let old = key_for(Algorithm::EdDSA);
    let new = key_for(Algorithm::EdDSA);
    let old_ring = Keyring::new(Algorithm::EdDSA, &old, &[]).unwrap();
    let old_token = old_ring.sign(&claims(TokenKind::Access)).unwrap();

    let rotated = Keyring::new(Algorithm::EdDSA, &new, std::slice::from_ref(&old)).unwrap();
    assert_eq!(rotated.active_kid(), new.kid);
    assert!(rotated.verify(&old_token, &access(), NOW).is_ok());
    let new_token = rotated.sign(&claims(TokenKind::Access)).unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(&new_token)[0]).unwrap()).unwrap();
    assert_eq!(header["kid"], json!(new.kid));
    // The old keyring does not know the new key.
    assert_eq!(
        old_ring.verify(&new_token, &access(), NOW),
        Err(JwtError::Invalid("unknown kid"))
    );
    // Once the old key is dropped, its tokens die.
    let pruned = Keyring::new(Algorithm::EdDSA, &new, &[]).unwrap();
    assert!(invalid(pruned.verify(&old_token, &access(), NOW)));
}

// ---- shape: segments, base64url, size -----------------------------

#[test]
fn wrong_segment_counts_are_malformed() {
    let ring = shared_ring(Algorithm::EdDSA);
    let token = ring.sign(&claims(TokenKind::Access)).unwrap();
    let p = segments(&token);
    for bad in [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        p[0].clone(),
        format!("{}.{}", p[0], p[1]),
        format!("{token}.{}", p[2]),
        format!("{token}."),
        format!(".{token}"),
        format!("{}..{}", p[0], p[2]),
    ] {
        assert_eq!(
            ring.verify(&bad, &access(), NOW),
            Err(JwtError::Malformed),
            "{bad}"
        );
    }
}

#[test]
fn padding_and_non_url_base64_are_malformed() {
    let ring = shared_ring(Algorithm::EdDSA);
    let token = ring.sign(&claims(TokenKind::Access)).unwrap();
    let p = segments(&token);
    // Re-encode each segment with padding or with the standard alphabet.
    let std = base64::engine::general_purpose::STANDARD;
    let url_padded = base64::engine::general_purpose::URL_SAFE;
    for i in 0..3 {
        let raw = URL_SAFE_NO_PAD.decode(&p[i]).unwrap();
        for encoded in [url_padded.encode(&raw), std.encode(&raw)] {
            if encoded == p[i] {
                continue; // no padding needed and no +/ in it
            }
            let mut q = p.clone();
            q[i] = encoded;
            assert_eq!(
                ring.verify(&q.join("."), &access(), NOW),
                Err(JwtError::Malformed)
            );
        }
        for junk in ["=", "+", "/", " ", "\n", "%", "é"] {
            let mut q = p.clone();
            q[i].push_str(junk);
            assert_eq!(
                ring.verify(&q.join("."), &access(), NOW),
                Err(JwtError::Malformed)
            );
        }
    }
    assert_eq!(
        ring.verify(&format!(" {token}"), &access(), NOW),
        Err(JwtError::Malformed)
    );
}

#[test]
fn non_canonical_trailing_bits_are_malformed() {
    let ring = shared_ring(Algorithm::EdDSA);
    let token = ring.sign(&claims(TokenKind::Access)).unwrap();
    let mut p = segments(&token);
    // A 64-byte Ed25519 signature is 86 chars: the last one carries 4
    // unused bits. Setting one keeps the decoded bytes identical.
    let last = p[2].pop().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    assert_eq!(idx % 16, 0, "canonical: the 4 unused bits are zero");
    p[2].push(alphabet.as_bytes()[idx | 1] as char);
    assert_eq!(
        ring.verify(&p.join("."), &access(), NOW),
        Err(JwtError::Malformed)
    );
}

#[test]
fn oversized_tokens_are_malformed_before_decoding() {
    let ring = shared_ring(Algorithm::HS256);
    let mut payload = payload_value();
    payload["pad"] = json!("x".repeat(MAX_TOKEN_LEN));
    let huge = format!(
        "{}.{}.{}",
        b64(std_header(ring).to_string()),
        b64(payload.to_string()),
        b64([0u8; 32])
    );
    assert_eq!(ring.verify(&huge, &access(), NOW), Err(JwtError::Malformed));
    // And sign refuses to produce one.
    let mut c = claims(TokenKind::Access);
    c.email = Some("x".repeat(MAX_TOKEN_LEN));
    assert!(ring.sign(&c).is_err());
}

// ---- header ---------------------------------------------------------

#[test]
fn header_must_be_a_json_object() {
    let ring = shared_ring(Algorithm::HS256);
    let token = ring.sign(&claims(TokenKind::Access)).unwrap();
    let p = segments(&token);
    for header in [
        "",
        "null",
        "[]",
        "\"JWT\"",
        "{",
        "{\"alg\":\"HS256\"",
        "not json",
        "{}x",
    ] {
        let bad = format!("{}.{}.{}", b64(header), p[1], p[2]);
        assert_eq!(
            ring.verify(&bad, &access(), NOW),
            Err(JwtError::Malformed),
            "{header}"
        );
    }
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    for ring in all_rings() {
        let payload = payload_value();
        let body = b64(payload.to_string());
        for alg in [
            "none", "None", "NONE", "nOnE", "", "eddsa", "Ed25519", "HS384", "RS512", "PS256",
            "ES384",
        ] {
            let header = json!({ "alg": alg, "kid": ring.active_kid(), "typ": "JWT" });
            // Unsigned (alg none style) and validly signed variants.
            let unsigned = format!("{}.{}.", b64(header.to_string()), body);
            assert!(ring.verify(&unsigned, &access(), NOW).is_err());
            let unsigned_sig = format!("{}.{}.{}", b64(header.to_string()), body, b64("x"));
            assert!(invalid(ring.verify(&unsigned_sig, &access(), NOW)), "{alg}");
            assert!(
                invalid(ring.verify(&forge(ring, &header, &payload), &access(), NOW)),
                "{alg}"
            );
        }
        // Every other algorithm toktok knows, correctly named.
        for other in [
            Algorithm::EdDSA,
            Algorithm::ES256,
            Algorithm::RS256,
            Algorithm::HS256,
        ] {
            if other == ring.algorithm() {
                continue;
            }
            let header = json!({ "alg": other.as_str(), "kid": ring.active_kid(), "typ": "JWT" });
            assert_eq!(
                ring.verify(&forge(ring, &header, &payload), &access(), NOW),
                Err(JwtError::Invalid("algorithm not accepted"))
            );
        }
        // alg missing or not a string.
        for header in [
            json!({ "kid": ring.active_kid(), "typ": "JWT" }),
            json!({ "alg": null, "kid": ring.active_kid() }),
            json!({ "alg": [ring.algorithm().as_str()], "kid": ring.active_kid() }),
        ] {
            assert!(invalid(ring.verify(
                &forge(ring, &header, &payload),
                &access(),
                NOW
            )));
        }
    }
}

#[test]
fn key_carrying_and_critical_headers_are_refused() {
    for ring in all_rings() {
        for name in ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"] {
            let mut header = std_header(ring);
            header[name] = match name {
                "jwk" => ring.jwks()["keys"]
                    .get(0)
                    .cloned()
                    .unwrap_or(json!({"kty": "oct", "k": "AAAA"})),
                "x5c" | "crit" => json!(["exp"]),
                _ => json!("https://attacker.example/keys"),
            };
            assert_eq!(
                ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
                Err(JwtError::Invalid("forbidden header parameter")),
                "{name}"
            );
        }
        // The allow-list also refuses anything unknown.
        for name in ["cty", "zip", "enc", "b64", "foo"] {
            let mut header = std_header(ring);
            header[name] = json!("x");
            assert_eq!(
                ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
                Err(JwtError::Invalid("unsupported header parameter"))
            );
        }
    }
}

#[test]
fn header_typ_must_be_at_jwt_on_access_tokens_and_jwt_elsewhere() {
    let ring = shared_ring(Algorithm::ES256);
    // Access tokens as issued now: at+jwt, with client_id.
    let token = ring.sign(&claims(TokenKind::Access)).unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(segments(&token)[0].as_str())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], json!("at+jwt"));
    assert!(ring.verify(&token, &access(), NOW).is_ok());
    // An access token of today's shape without at+jwt is refused...
    let mut no_typ = std_header(ring);
    no_typ.as_object_mut().unwrap().remove("typ");
    let mut jwt_typ = std_header(ring);
    jwt_typ["typ"] = json!("JWT");
    for header in [&no_typ, &jwt_typ] {
        assert_eq!(
            ring.verify(&forge(ring, header, &payload_value()), &access(), NOW),
            Err(JwtError::Invalid("access token without typ at+jwt"))
        );
    }
    // ...but one of the pre-1.1 shape (no client_id) is taken until it
    // expires, so an upgrade signs nobody out.
    let mut legacy = payload_value();
    for claim in ["client_id", "auth_time", "amr", "aal"] {
        legacy.as_object_mut().unwrap().remove(claim);
    }
    for header in [&no_typ, &jwt_typ] {
        assert!(ring
            .verify(&forge(ring, header, &legacy), &access(), NOW)
            .is_ok());
    }
    // at+jwt on anything that is not an access token is refused.
    for kind in [TokenKind::Refresh, TokenKind::Anonymous] {
        let payload = serde_json::to_value(claims(kind)).unwrap();
        assert!(ring
            .verify(&forge(ring, &jwt_typ, &payload), &validation(kind), NOW)
            .is_ok());
        assert_eq!(
            ring.verify(
                &forge(ring, &std_header(ring), &payload),
                &validation(kind),
                NOW
            ),
            Err(JwtError::Invalid("at+jwt on a token that is not access"))
        );
    }
    for typ in [
        json!("jwt"),
        json!("AT+JWT"),
        json!("application/at+jwt"),
        json!("JWS"),
        json!(""),
        json!(null),
        json!(1),
    ] {
        let mut header = std_header(ring);
        header["typ"] = typ;
        assert!(invalid(ring.verify(
            &forge(ring, &header, &payload_value()),
            &access(),
            NOW
        )));
    }
}

#[test]
fn anonymous_tokens_have_an_audience_of_their_own() {
    let ring = shared_ring(Algorithm::EdDSA);
    let mut anon = claims(TokenKind::Anonymous);
    anon.aud = anonymous_audience("toktok-api");
    assert_eq!(anon.aud, "toktok-api:anonymous");
    let token = ring.sign(&anon).unwrap();
    let v = validation(TokenKind::Anonymous);
    assert_eq!(
        ring.verify(&token, &v, NOW).unwrap().aud,
        "toktok-api:anonymous"
    );
    // The pre-1.1 shape (aud = the audience) until it expires.
    let legacy = ring.sign(&claims(TokenKind::Anonymous)).unwrap();
    assert!(ring.verify(&legacy, &v, NOW).is_ok());
    // Never as an access token, whatever the audience says.
    assert!(invalid(ring.verify(&token, &access(), NOW)));
    assert!(invalid(ring.verify(&legacy, &access(), NOW)));
    // And an access token whose aud is the anonymous one is no access token.
    let mut odd = claims(TokenKind::Access);
    odd.aud = anonymous_audience("toktok-api");
    assert!(invalid(ring.verify(
        &ring.sign(&odd).unwrap(),
        &access(),
        NOW
    )));
}

#[test]
fn duplicate_header_members_are_refused() {
    let ring = shared_ring(Algorithm::EdDSA);
    let header = format!(
        r#"{{"alg":"EdDSA","kid":"{}","typ":"JWT","alg":"EdDSA"}}"#,
        ring.active_kid()
    );
    let token = ring
        .sign_parts(&b64(header), payload_value().to_string().as_bytes())
        .unwrap();
    assert_eq!(
        ring.verify(&token, &access(), NOW),
        Err(JwtError::Invalid("duplicate JSON member"))
    );
}

#[test]
fn kid_is_required_for_asymmetric_keys_and_must_be_known() {
    for alg in ALL_ASYMMETRIC {
        let ring = shared_ring(alg);
        let mut header = std_header(ring);
        header.as_object_mut().unwrap().remove("kid");
        assert_eq!(
            ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
            Err(JwtError::Invalid("missing kid"))
        );
        for kid in [json!("nope"), json!(""), json!(null), json!(7)] {
            header["kid"] = kid;
            assert!(invalid(ring.verify(
                &forge(ring, &header, &payload_value()),
                &access(),
                NOW
            )));
        }
    }
}

#[test]
fn hs256_kid_is_optional_but_checked_when_present() {
    let ring = shared_ring(Algorithm::HS256);
    let mut header = std_header(ring);
    header.as_object_mut().unwrap().remove("kid");
    assert!(ring
        .verify(&forge(ring, &header, &payload_value()), &access(), NOW)
        .is_ok());
    header["kid"] = json!("hs-00000000");
    assert_eq!(
        ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
        Err(JwtError::Invalid("unknown kid"))
    );
}

// ---- signature ------------------------------------------------------

#[test]
fn hs256_signed_with_a_public_key_is_refused() {
    for alg in ALL_ASYMMETRIC {
        let ring = shared_ring(alg);
        let jwk = ring.jwks()["keys"][0].clone();
        // Candidate "secrets" an attacker could derive from public data.
        let mut secrets: Vec<Vec<u8>> = vec![jwk.to_string().into_bytes()];
        for member in ["x", "y", "n"] {
            if let Some(s) = jwk[member].as_str() {
                secrets.push(URL_SAFE_NO_PAD.decode(s).unwrap());
                secrets.push(s.as_bytes().to_vec());
            }
        }
        for secret in secrets {
            let attacker = Keyring::hs256(&secret);
            for header in [
                json!({ "alg": "HS256", "kid": ring.active_kid(), "typ": "JWT" }),
                json!({ "alg": "HS256", "typ": "JWT" }),
            ] {
                let token = forge(&attacker, &header, &payload_value());
                assert_eq!(
                    ring.verify(&token, &access(), NOW),
                    Err(JwtError::Invalid("algorithm not accepted")),
                    "{alg:?}"
                );
            }
        }
    }
}

#[test]
fn stripped_truncated_or_foreign_signatures_are_refused() {
    for ring in all_rings() {
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let p = segments(&token);
        let stripped = format!("{}.{}.", p[0], p[1]);
        assert!(ring.verify(&stripped, &access(), NOW).is_err());
        let sig = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
        for bad_sig in [
            sig[..sig.len() - 1].to_vec(),
            sig[..1].to_vec(),
            [sig.clone(), vec![0]].concat(),
            vec![0; sig.len()],
        ] {
            let bad = format!("{}.{}.{}", p[0], p[1], b64(bad_sig));
            assert_eq!(
                ring.verify(&bad, &access(), NOW),
                Err(JwtError::Invalid("bad signature"))
            );
        }
        // Changed claims under the old signature.
        let mut payload = payload_value();
        payload["role"] = json!("admin");
        let tampered = format!("{}.{}.{}", p[0], b64(payload.to_string()), p[2]);
        assert_eq!(
            ring.verify(&tampered, &access(), NOW),
            Err(JwtError::Invalid("bad signature"))
        );
    }
    // Same algorithm and kid, different key.
    let a = key_for(Algorithm::ES256);
    let mut b = key_for(Algorithm::ES256);
    b.kid = a.kid.clone();
    b.public_jwk["kid"] = json!(a.kid);
    let ring_a = Keyring::new(Algorithm::ES256, &a, &[]).unwrap();
    let ring_b = Keyring::new(Algorithm::ES256, &b, &[]).unwrap();
    let token = ring_b.sign(&claims(TokenKind::Access)).unwrap();
    assert_eq!(
        ring_a.verify(&token, &access(), NOW),
        Err(JwtError::Invalid("bad signature"))
    );
    let hs = Keyring::hs256(b"a-different-secret-of-at-least-32-bytes");
    let token = hs.sign(&claims(TokenKind::Access)).unwrap();
    assert!(invalid(shared_ring(Algorithm::HS256).verify(
        &token,
        &access(),
        NOW
    )));
}

#[test]
fn claims_are_not_examined_before_the_signature() {
    // A bad signature on an expired token with a wrong issuer is a
    // signature failure, not Expired.
    let ring = shared_ring(Algorithm::EdDSA);
    let mut c = claims(TokenKind::Access);
    c.exp = NOW - 10_000;
    c.iss = "evil".into();
    let token = ring.sign(&c).unwrap();
    let p = segments(&token);
    let other = ring_for(Algorithm::EdDSA);
    let foreign_sig = segments(&other.sign(&c).unwrap())[2].clone();
    let bad = format!("{}.{}.{}", p[0], p[1], foreign_sig);
    assert_eq!(
        ring.verify(&bad, &access(), NOW),
        Err(JwtError::Invalid("bad signature"))
    );
}

// ---- claims -----------------------------------------------------------

#[test]
fn time_claims_must_be_json_integers() {
    let ring = shared_ring(Algorithm::HS256);
    for name in ["exp", "iat", "nbf"] {
        let good = payload_value()[name].as_i64().unwrap();
        for bad in [
            json!(good.to_string()),
            json!("9999999999"),
            json!(good as f64 + 0.5),
            json!(good as f64),
            json!(null),
            json!(true),
            json!([good]),
            json!({ "value": good }),
            json!(u64::MAX),
        ] {
            let mut payload = payload_value();
            payload[name] = bad.clone();
            assert_eq!(
                ring.verify(&forge(ring, &std_header(ring), &payload), &access(), NOW),
                Err(JwtError::Invalid("claims missing or of the wrong type")),
                "{name}: {bad}"
            );
        }
        // Exponent notation is a float in JSON, even when integral.
        let raw = payload_value()
            .to_string()
            .replace(&good.to_string(), "1.7000009e9");
        let token = ring
            .sign_parts(&b64(std_header(ring).to_string()), raw.as_bytes())
            .unwrap();
        assert!(invalid(ring.verify(&token, &access(), NOW)));
    }
}

#[test]
fn required_claims_must_be_present() {
    let ring = shared_ring(Algorithm::HS256);
    for name in ["iss", "aud", "sub", "exp", "iat", "nbf", "jti", "typ"] {
        let mut payload = payload_value();
        payload.as_object_mut().unwrap().remove(name);
        assert!(
            invalid(ring.verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)),
            "{name}"
        );
    }
}

#[test]
fn payload_must_be_a_json_object_without_duplicates() {
    let ring = shared_ring(Algorithm::HS256);
    let header = b64(std_header(ring).to_string());
    // A struct may also deserialise from a JSON array; we must not.
    let c = claims(TokenKind::Access);
    let as_array = json!([
        c.iss,
        c.aud,
        c.sub,
        c.exp,
        c.iat,
        c.nbf,
        c.jti,
        c.sid,
        "access",
        c.email,
        c.email_verified,
        c.role
    ]);
    for payload in [
        as_array.to_string(),
        "null".into(),
        "{".into(),
        "\"x\"".into(),
    ] {
        let token = ring.sign_parts(&header, payload.as_bytes()).unwrap();
        assert_eq!(
            ring.verify(&token, &access(), NOW),
            Err(JwtError::Malformed),
            "{payload}"
        );
    }
    let body = payload_value().to_string();
    let dup = format!("{},\"iss\":\"evil\"}}", &body[..body.len() - 1]);
    let token = ring.sign_parts(&header, dup.as_bytes()).unwrap();
    assert_eq!(
        ring.verify(&token, &access(), NOW),
        Err(JwtError::Invalid("duplicate JSON member"))
    );
}

#[test]
fn unknown_claims_are_ignored() {
    let ring = shared_ring(Algorithm::EdDSA);
    let mut payload = payload_value();
    payload["permissions"] = json!("everything");
    payload["nested"] = json!({ "a": [1, 2, { "b": null }] });
    let got = ring
        .verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)
        .unwrap();
    assert_eq!(got, claims(TokenKind::Access));
}

#[test]
fn issuer_must_match() {
    let ring = shared_ring(Algorithm::EdDSA);
    for iss in [
        json!("evil"),
        json!("TOKTOK"),
        json!(""),
        json!(["toktok"]),
        json!(null),
    ] {
        let mut payload = payload_value();
        payload["iss"] = iss;
        assert!(invalid(ring.verify(
            &forge(ring, &std_header(ring), &payload),
            &access(),
            NOW
        )));
    }
}

#[test]
fn audience_may_be_a_string_or_an_array_containing_ours() {
    let ring = shared_ring(Algorithm::EdDSA);
    let expected = claims(TokenKind::Access);
    for aud in [json!(["other", "toktok-api"]), json!(["toktok-api"])] {
        let mut payload = payload_value();
        payload["aud"] = aud;
        let got = ring
            .verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)
            .unwrap();
        assert_eq!(got, expected);
    }
    for aud in [
        json!("other"),
        json!([]),
        json!(["other"]),
        json!("toktok-api "),
        json!([1]),
        json!(null),
        json!({"aud": "toktok-api"}),
    ] {
        let mut payload = payload_value();
        payload["aud"] = aud.clone();
        assert!(
            invalid(ring.verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)),
            "{aud}"
        );
    }
}

#[test]
fn token_kinds_cannot_stand_in_for_each_other() {
    let ring = shared_ring(Algorithm::EdDSA);
    let mut wrong_pairs = 0;
    for issued in ALL_KINDS {
        let token = ring.sign(&claims(issued)).unwrap();
        for expected in ALL_KINDS {
            let got = ring.verify(&token, &validation(expected), NOW);
            if issued == expected {
                assert!(got.is_ok());
            } else {
                wrong_pairs += 1;
                assert_eq!(
                    got,
                    Err(JwtError::Invalid("wrong token kind")),
                    "{issued:?} as {expected:?}"
                );
            }
        }
    }
    assert_eq!(wrong_pairs, 6);
    for typ in [
        json!("Access"),
        json!("id"),
        json!(""),
        json!(null),
        json!(1),
    ] {
        let mut payload = payload_value();
        payload["typ"] = typ;
        assert!(invalid(ring.verify(
            &forge(ring, &std_header(ring), &payload),
            &access(),
            NOW
        )));
    }
}

#[test]
fn expiry_honours_leeway_exactly() {
    let ring = shared_ring(Algorithm::EdDSA);
    let c = claims(TokenKind::Access);
    let token = ring.sign(&c).unwrap();
    let v = access(); // leeway 30
    assert!(ring.verify(&token, &v, c.exp - 1).is_ok());
    assert!(ring.verify(&token, &v, c.exp).is_ok());
    assert!(ring.verify(&token, &v, c.exp + 29).is_ok());
    assert_eq!(ring.verify(&token, &v, c.exp + 30), Err(JwtError::Expired));
    assert_eq!(
        ring.verify(&token, &v, c.exp + 10_000),
        Err(JwtError::Expired)
    );
    let strict = Validation {
        leeway: 0,
        ..access()
    };
    assert_eq!(ring.verify(&token, &strict, c.exp), Err(JwtError::Expired));
}

#[test]
fn leeway_is_clamped_to_sixty_seconds() {
    let ring = shared_ring(Algorithm::EdDSA);
    let c = claims(TokenKind::Access);
    let token = ring.sign(&c).unwrap();
    let lax = Validation {
        leeway: 3600,
        ..access()
    };
    assert!(ring.verify(&token, &lax, c.exp + 59).is_ok());
    assert_eq!(
        ring.verify(&token, &lax, c.exp + 60),
        Err(JwtError::Expired)
    );
    let negative = Validation {
        leeway: -100,
        ..access()
    };
    assert_eq!(
        ring.verify(&token, &negative, c.exp),
        Err(JwtError::Expired)
    );
    assert!(ring.verify(&token, &negative, c.exp - 1).is_ok());
}

#[test]
fn expired_is_reported_only_for_otherwise_valid_tokens() {
    let ring = shared_ring(Algorithm::EdDSA);
    let late = NOW + 100_000;
    let mut wrong_iss = claims(TokenKind::Access);
    wrong_iss.iss = "evil".into();
    assert!(invalid(ring.verify(
        &ring.sign(&wrong_iss).unwrap(),
        &access(),
        late
    )));
    let mut wrong_aud = claims(TokenKind::Access);
    wrong_aud.aud = "evil".into();
    assert!(invalid(ring.verify(
        &ring.sign(&wrong_aud).unwrap(),
        &access(),
        late
    )));
    let refresh = ring.sign(&claims(TokenKind::Refresh)).unwrap();
    assert!(invalid(ring.verify(&refresh, &access(), late)));
    let mut header = std_header(ring);
    header["jku"] = json!("https://attacker.example");
    assert!(invalid(ring.verify(
        &forge(ring, &header, &payload_value()),
        &access(),
        late
    )));
    let good = ring.sign(&claims(TokenKind::Access)).unwrap();
    assert_eq!(ring.verify(&good, &access(), late), Err(JwtError::Expired));
}

#[test]
fn not_before_and_issued_at_in_the_future_are_refused() {
    let ring = shared_ring(Algorithm::EdDSA);
    for field in ["nbf", "iat"] {
        let mut c = claims(TokenKind::Access);
        let set = |c: &mut Claims, t: i64| match field {
            "nbf" => c.nbf = t,
            _ => c.iat = t,
        };
        set(&mut c, NOW + 30); // within leeway
        assert!(
            ring.verify(&ring.sign(&c).unwrap(), &access(), NOW).is_ok(),
            "{field}"
        );
        set(&mut c, NOW + 31);
        assert!(
            invalid(ring.verify(&ring.sign(&c).unwrap(), &access(), NOW)),
            "{field}"
        );
        set(&mut c, NOW + 31);
        assert!(
            ring.verify(&ring.sign(&c).unwrap(), &access(), NOW + 1)
                .is_ok(),
            "{field}"
        );
    }
}

#[test]
fn extreme_timestamps_do_not_overflow() {
    let ring = shared_ring(Algorithm::HS256);
    let mut c = claims(TokenKind::Access);
    c.exp = i64::MAX;
    c.nbf = i64::MIN;
    c.iat = i64::MIN;
    let token = ring.sign(&c).unwrap();
    let lax = Validation {
        leeway: 60,
        ..access()
    };
    assert_eq!(ring.verify(&token, &lax, NOW).unwrap(), c);
    assert!(ring.verify(&token, &lax, i64::MAX).is_err());
    assert!(ring.verify(&token, &lax, i64::MIN).is_ok());
    c.exp = i64::MIN;
    assert_eq!(
        ring.verify(&ring.sign(&c).unwrap(), &lax, NOW),
        Err(JwtError::Expired)
    );
    c.exp = NOW + 10;
    c.nbf = i64::MAX;
    assert!(invalid(ring.verify(&ring.sign(&c).unwrap(), &lax, NOW)));
}

// ---- JWKS -------------------------------------------------------------

#[test]
fn jwks_publishes_public_members_only() {
    let expected: [(Algorithm, &[&str]); 3] = [
        (Algorithm::EdDSA, &["alg", "crv", "kid", "kty", "use", "x"]),
        (
            Algorithm::ES256,
            &["alg", "crv", "kid", "kty", "use", "x", "y"],
        ),
        (Algorithm::RS256, &["alg", "e", "kid", "kty", "n", "use"]),
    ];
    for (alg, members) in expected {
        let ring = shared_ring(alg);
        let jwks = ring.jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let jwk = keys[0].as_object().unwrap();
        let mut names: Vec<&str> = jwk.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, members, "{alg:?}");
        assert_eq!(jwk["kid"], json!(ring.active_kid()));
        assert_eq!(jwk["alg"], json!(alg.as_str()));
        assert_eq!(jwk["use"], json!("sig"));
        match alg {
            Algorithm::EdDSA => {
                assert_eq!(
                    (&jwk["kty"], &jwk["crv"]),
                    (&json!("OKP"), &json!("Ed25519"))
                );
                assert_eq!(
                    URL_SAFE_NO_PAD
                        .decode(jwk["x"].as_str().unwrap())
                        .unwrap()
                        .len(),
                    32
                );
            }
            Algorithm::ES256 => {
                assert_eq!((&jwk["kty"], &jwk["crv"]), (&json!("EC"), &json!("P-256")));
                for c in ["x", "y"] {
                    assert_eq!(
                        URL_SAFE_NO_PAD
                            .decode(jwk[c].as_str().unwrap())
                            .unwrap()
                            .len(),
                        32
                    );
                }
            }
            _ => {
                assert_eq!(jwk["kty"], json!("RSA"));
                assert_eq!(
                    URL_SAFE_NO_PAD
                        .decode(jwk["n"].as_str().unwrap())
                        .unwrap()
                        .len(),
                    256
                );
                assert_eq!(jwk["e"], json!("AQAB"));
            }
        }
        for private in PRIVATE_JWK_MEMBERS {
            assert!(!jwk.contains_key(*private));
        }
    }
    assert_eq!(shared_ring(Algorithm::HS256).jwks(), json!({ "keys": [] }));
}

#[test]
fn jwks_lists_active_and_retired_keys_and_matches_storage() {
    let active = key_for(Algorithm::ES256);
    let retired = [key_for(Algorithm::ES256), key_for(Algorithm::ES256)];
    let ring = Keyring::new(Algorithm::ES256, &active, &retired).unwrap();
    let jwks = ring.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    let stored: Vec<&Value> = std::iter::once(&active)
        .chain(&retired)
        .map(|k| &k.public_jwk)
        .collect();
    assert_eq!(keys.iter().collect::<Vec<_>>(), stored);
    let rs = rs256_key();
    assert_eq!(
        shared_ring(Algorithm::RS256).jwks()["keys"][0],
        rs.public_jwk
    );
}

/// What another service does: verify with nothing but the JWK.
fn verify_with_jwk(token: &str, jwk: &Value) -> bool {
    let p = segments(token);
    let signing_input = format!("{}.{}", p[0], p[1]);
    let sig = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
    let member = |m: &str| URL_SAFE_NO_PAD.decode(jwk[m].as_str().unwrap()).unwrap();
    match jwk["kty"].as_str().unwrap() {
        "OKP" => UnparsedPublicKey::new(&signature::ED25519, member("x"))
            .verify(signing_input.as_bytes(), &sig)
            .is_ok(),
        "EC" => {
            let point = [vec![0x04], member("x"), member("y")].concat();
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signing_input.as_bytes(), &sig)
                .is_ok()
        }
        "RSA" => RsaPublicKeyComponents {
            n: member("n"),
            e: member("e"),
        }
        .verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            signing_input.as_bytes(),
            &sig,
        )
        .is_ok(),
        _ => false,
    }
}

#[test]
fn other_services_can_verify_from_the_jwks_alone() {
    for alg in ALL_ASYMMETRIC {
        let ring = shared_ring(alg);
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(&token)[0]).unwrap()).unwrap();
        let jwks = ring.jwks();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == header["kid"])
            .unwrap();
        assert!(verify_with_jwk(&token, jwk), "{alg:?}");
        let mut tampered = payload_value();
        tampered["role"] = json!("admin");
        let p = segments(&token);
        let forged = format!("{}.{}.{}", p[0], b64(tampered.to_string()), p[2]);
        assert!(!verify_with_jwk(&forged, jwk), "{alg:?}");
    }
}

// ---- properties ---------------------------------------------------------

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::EdDSA),
        Just(Algorithm::ES256),
        Just(Algorithm::RS256),
        Just(Algorithm::HS256),
    ]
}

fn kind() -> impl Strategy<Value = TokenKind> {
    prop_oneof![
        Just(TokenKind::Access),
        Just(TokenKind::Refresh),
        Just(TokenKind::Anonymous)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flipping_any_byte_never_yields_other_claims(
        alg in algorithm(),
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let ring = shared_ring(alg);
        let original = claims(TokenKind::Access);
        let token = ring.sign(&original).unwrap();
        let mut bytes = token.into_bytes();
        let i = position.index(bytes.len());
        bytes[i] ^= mask;
        let flipped = String::from_utf8_lossy(&bytes);
        match ring.verify(&flipped, &access(), NOW) {
            Err(_) => {}
            Ok(got) => prop_assert_eq!(got, original),
        }
    }

    #[test]
    fn round_trip_sign_verify(
        alg in algorithm(),
        kind in kind(),
        sub in "[a-z0-9:-]{1,40}",
        jti in "[A-Za-z0-9_-]{1,32}",
        sid in proptest::option::of("[a-f0-9-]{1,36}"),
        email in proptest::option::of("\\PC{0,40}"),
        email_verified in proptest::option::of(any::<bool>()),
        role in proptest::option::of("[a-z]{1,12}"),
        age in 0i64..600,
        ttl in 1i64..100_000,
    ) {
        let ring = shared_ring(alg);
        let now = NOW;
        let c = Claims {
            iss: "toktok".into(),
            aud: "toktok-api".into(),
            sub,
            exp: now - age + ttl + 1,
            iat: now - age,
            nbf: now - age,
            jti,
            client_id: (kind == TokenKind::Access).then(|| FIRST_PARTY_CLIENT_ID.into()),
            sid,
            typ: kind,
            email,
            email_verified,
            role,
            auth_time: Some(now - age),
            amr: Some(vec!["pwd".into()]),
            aal: Some(1),
            scope: None,
        };
        let token = ring.sign(&c).unwrap();
        let v = Validation { leeway: 0, ..validation(kind) };
        if c.exp > now {
            prop_assert_eq!(ring.verify(&token, &v, now).unwrap(), c);
        } else {
            prop_assert_eq!(ring.verify(&token, &v, now), Err(JwtError::Expired));
        }
    }
}

/// Hostile input, property-tested (issue 9; docs/SECURITY.md D6): verify for
/// every token kind and algorithm, formerly in tests/api/hostile.rs.
mod hostile {
    use proptest::prelude::*;

    use super::*;
    use crate::auth::hostile::{json_value, mutate, mutation, runner};

    const NOW: i64 = 1_800_000_000;
    const HS_SECRET: &[u8] = b"hostile-input-tests-hs256-secret-32+bytes";
    const KINDS: [TokenKind; 3] = [TokenKind::Access, TokenKind::Refresh, TokenKind::Anonymous];

    /// One keyring per algorithm for the whole binary (RSA generation is slow).
    fn rings() -> &'static [Keyring; 4] {
        static RINGS: OnceLock<[Keyring; 4]> = OnceLock::new();
        RINGS.get_or_init(|| {
            let asym = |alg| Keyring::new(alg, &generate_key(alg).unwrap(), &[]).unwrap();
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
            leeway: 30,
            kind,
        }
    }

    fn claims(kind: TokenKind, sub: String, jti: String, ttl: i64) -> Claims {
        Claims {
            iss: "toktok".into(),
            aud: "toktok".into(),
            sub,
            exp: NOW + ttl,
            iat: NOW,
            nbf: NOW,
            jti,
            client_id: (kind == TokenKind::Access).then(|| "toktok".to_owned()),
            sid: (kind != TokenKind::Anonymous).then(|| "sid".to_owned()),
            typ: kind,
            email: None,
            email_verified: None,
            role: Some("user".into()),
            auth_time: None,
            amr: None,
            aal: None,
            scope: None,
        }
    }

    fn kind_index() -> impl Strategy<Value = usize> {
        0usize..3
    }

    #[test]
    fn a_token_of_one_kind_never_passes_as_another() {
        // J3, for every algorithm and every ordered pair of kinds.
        runner(64)
            .run(
                &(
                    0usize..4,
                    kind_index(),
                    kind_index(),
                    "[a-z0-9:-]{1,40}",
                    "[A-Za-z0-9_-]{1,24}",
                    1i64..100_000,
                ),
                |(alg, signed_as, checked_as, sub, jti, ttl)| {
                    let ring = &rings()[alg];
                    let kind = KINDS[signed_as];
                    let token = ring.sign(&claims(kind, sub, jti, ttl)).unwrap();
                    let result = ring.verify(&token, &validation(KINDS[checked_as]), NOW);
                    if signed_as == checked_as {
                        prop_assert_eq!(result.map(|c| c.typ), Ok(kind));
                    } else {
                        prop_assert!(
                            result.is_err(),
                            "{:?} passed as {:?}",
                            kind,
                            KINDS[checked_as]
                        );
                    }
                    Ok(())
                },
            )
            .unwrap();
    }

    #[test]
    fn any_mutated_token_of_any_kind_is_rejected() {
        // "Any mutated byte of a token is rejected": strictly, not merely
        // "yields the same claims" (base64 trailing bits must not be slack).
        runner(256)
            .run(&(0usize..4, kind_index(), mutation()), |(alg, kind, m)| {
                let ring = &rings()[alg];
                let kind = KINDS[kind];
                let token = ring
                    .sign(&claims(kind, "user-1".into(), "j".into(), 900))
                    .unwrap();
                let damaged = mutate(token.as_bytes(), &m);
                prop_assume!(damaged != token.as_bytes());
                let damaged = String::from_utf8_lossy(&damaged);
                prop_assert!(
                    ring.verify(&damaged, &validation(kind), NOW).is_err(),
                    "{:?} of a {:?} token ({:?}) was accepted",
                    m,
                    kind,
                    ring.algorithm()
                );
                Ok(())
            })
            .unwrap();
    }

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// HS256 with a known secret lets the test sign any header and payload, so
    /// the parser and claim checks behind the signature are reached.
    fn hs256_sign(header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HS_SECRET);
        let sig = ring::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", b64(sig))
    }

    #[test]
    fn validly_signed_arbitrary_headers_and_payloads_never_panic_and_pass_only_well_formed() {
        // J1, J2 behind a good signature: whatever passes is a complete,
        // current token of the expected kind.
        let ring = &rings()[3];
        runner(512)
            .run(
                &(
                    json_value(NOW),
                    json_value(NOW),
                    kind_index(),
                    any::<bool>(),
                ),
                |(header, payload, kind, good_header)| {
                    let kind = KINDS[kind];
                    let header = if good_header {
                        json!({ "alg": "HS256", "typ": "JWT" })
                    } else {
                        header
                    };
                    let token = hs256_sign(
                        header.to_string().as_bytes(),
                        payload.to_string().as_bytes(),
                    );
                    if let Ok(c) = ring.verify(&token, &validation(kind), NOW) {
                        prop_assert_eq!(c.typ, kind);
                        prop_assert!(c.exp + 30 >= NOW);
                        prop_assert_eq!(c.iss.as_str(), "toktok");
                        prop_assert_eq!(c.aud.as_str(), "toktok");
                        prop_assert!(payload["exp"].is_number() && payload["iat"].is_number());
                    }
                    Ok(())
                },
            )
            .unwrap();
    }

    #[test]
    fn arbitrary_text_never_verifies_and_never_panics() {
        let segment = prop_oneof!["[A-Za-z0-9_-]{0,60}", "\\PC{0,20}", Just(String::new())];
        runner(512)
            .run(
                &(
                    prop::collection::vec(segment, 0..6),
                    0usize..4,
                    kind_index(),
                ),
                |(segments, alg, kind)| {
                    let token = segments.join(".");
                    prop_assert!(rings()[alg]
                        .verify(&token, &validation(KINDS[kind]), NOW)
                        .is_err());
                    Ok(())
                },
            )
            .unwrap();
    }
}
