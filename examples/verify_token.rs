//! How a Rust service verifies toktok access tokens (docs/verifying-tokens.md
//! shows this file; tests/interop/run.sh runs it against a live toktok).
//!
//!     cargo run --example verify_token -- http://127.0.0.1:8080 "$TOKEN"
//!
//! Exit status 0 and the claims when the token is an access token of this
//! toktok, 1 and the reason otherwise.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The claims this service uses (toktok sends more; unknown ones are ignored).
#[derive(Deserialize)]
struct AccessClaims {
    sub: String,
    sid: String,
    role: String,
    email: String,
    exp: u64,
}

/// Accepts a toktok access token and nothing else: signed by a key of the
/// JWKS with the configured algorithm, header `typ: at+jwt`, issuer and
/// audience as configured, not expired.
fn verify_access_token(jwks: &JwkSet, token: &str) -> Result<AccessClaims, String> {
    let header = decode_header(token).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some("at+jwt") {
        return Err("not an access token (typ is not at+jwt)".into());
    }
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks
        .find(&kid)
        .ok_or("unknown kid: refetch the JWKS once")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    // The algorithm is pinned here ([jwt] algorithm), never read from the token.
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["toktok"]); // [jwt] issuer
    validation.set_audience(&["toktok"]); // [jwt] audience
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = decode::<AccessClaims>(token, &key, &validation).map_err(|e| e.to_string())?;
    Ok(data.claims)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(token)) = (args.next(), args.next()) else {
        eprintln!("usage: verify_token TOKTOK_URL TOKEN");
        return std::process::ExitCode::from(2);
    };
    // A real service fetches the key set once and again only for an
    // unknown kid (at most every 30 s or so), not for every token.
    let jwks: JwkSet = match reqwest::get(format!("{url}/.well-known/jwks.json")).await {
        Ok(res) => match res.json().await {
            Ok(jwks) => jwks,
            Err(e) => {
                eprintln!("the JWKS is not readable: {e}");
                return std::process::ExitCode::from(2);
            }
        },
        Err(e) => {
            eprintln!("cannot fetch the JWKS: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match verify_access_token(&jwks, &token) {
        Ok(claims) => {
            println!(
                "accepted: user {} <{}>, role {}, session {}, expires at {}",
                claims.sub, claims.email, claims.role, claims.sid, claims.exp
            );
            std::process::ExitCode::SUCCESS
        }
        Err(reason) => {
            println!("refused: {reason}");
            std::process::ExitCode::from(1)
        }
    }
}
