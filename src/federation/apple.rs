//! Apple's client secret. Sign in with Apple has no fixed client secret:
//! the client authenticates at the token endpoint with a JWT it signs
//! itself (ES256), with the private key Apple hands out once as a `.p8`
//! file (a PKCS#8 P-256 key in PEM). Apple accepts such a secret for at
//! most six months after its `iat`.
//!
//! The key is parsed on every call; that is cheap for P-256, and a secret
//! lasts [`SECRET_LIFETIME`], so the caller may keep one and sign anew well
//! before it runs out.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

/// The `aud` of a client secret: Apple itself.
pub const AUDIENCE: &str = "https://appleid.apple.com";

/// How long a client secret is valid: 150 days.
pub const SECRET_LIFETIME: i64 = 150 * 86_400;

/// The longest lifetime Apple accepts (`exp` − `iat`, six months).
pub const MAX_LIFETIME: i64 = 15_777_000;

// Checked when compiling: a longer secret is refused by Apple.
const _: () = assert!(SECRET_LIFETIME <= MAX_LIFETIME);

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// The client secret JWT: header `{"alg":"ES256","kid":key_id}`, claims
/// `iss` = the team id, `iat` = `now`, `exp` = `now` +
/// [`SECRET_LIFETIME`], `aud` = [`AUDIENCE`], `sub` = the client (Services)
/// id, signed with the `.p8` key. The error says what to fix, never the
/// key.
pub fn client_secret(
    team_id: &str,
    key_id: &str,
    client_id: &str,
    private_key_pem: &str,
    now: i64,
) -> Result<String, String> {
    for (value, what) in [
        (team_id, "team id"),
        (key_id, "key id"),
        (client_id, "client id"),
    ] {
        if value.is_empty() {
            return Err(format!("the Apple {what} is empty"));
        }
    }
    let rng = SystemRandom::new();
    let key = key_pair(private_key_pem, &rng)?;
    let header = json!({ "alg": "ES256", "kid": key_id });
    let claims = json!({
        "iss": team_id,
        "iat": now,
        "exp": now.saturating_add(SECRET_LIFETIME),
        "aud": AUDIENCE,
        "sub": client_id,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key
        .sign(&rng, signing_input.as_bytes())
        .map_err(|_| "signing the Apple client secret failed".to_string())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    ))
}

/// Checks at start-up that the key can sign client secrets.
pub fn check_private_key(private_key_pem: &str) -> Result<(), String> {
    key_pair(private_key_pem, &SystemRandom::new()).map(|_| ())
}

fn key_pair(pem: &str, rng: &SystemRandom) -> Result<EcdsaKeyPair, String> {
    let der = pkcs8_der(pem)?;
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, rng).map_err(|e| {
        format!(
            "the Apple private key is not a P-256 key in PKCS#8 form with its public key ({e}); \
             use the .p8 file Apple gave as it is"
        )
    })
}

/// The DER inside a `-----BEGIN PRIVATE KEY-----` PEM block (the `.p8`
/// file's whole content; blank lines and `\r` are tolerated).
fn pkcs8_der(pem: &str) -> Result<Vec<u8>, String> {
    let not_p8 = || {
        format!(
            "the Apple private key is not the content of a .p8 file \
             ({PEM_BEGIN}, base64 lines, {PEM_END})"
        )
    };
    let mut lines = pem.lines().map(str::trim).filter(|line| !line.is_empty());
    if lines.next() != Some(PEM_BEGIN) {
        return Err(not_p8());
    }
    let mut body = String::new();
    loop {
        match lines.next() {
            Some(PEM_END) => break,
            Some(line) if !line.starts_with("-----") => body.push_str(line),
            Some(_) | None => return Err(not_p8()),
        }
    }
    if lines.next().is_some() {
        return Err(not_p8());
    }
    STANDARD.decode(body).map_err(|_| not_p8())
}
