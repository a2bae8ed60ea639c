//! The discovery documents (OpenID Connect Discovery 1.0 and RFC 8414):
//! one body serves both `/.well-known/openid-configuration` and
//! `/.well-known/oauth-authorization-server`.

use serde_json::{json, Value};

/// The scopes a client may ask for.
pub const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// The claims an ID token or userinfo answer may carry.
pub const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "acr",
    "sid",
    "email",
    "email_verified",
    "name",
    "preferred_username",
    "locale",
    "updated_at",
];

/// The document for `issuer` (`server.public_url`, no trailing slash);
/// `id_token_algs` lists what ID tokens may be signed with (`RS256` first).
pub fn document(issuer: &str, id_token_algs: &[&str]) -> Value {
    let at = |path: &str| format!("{issuer}{path}");
    json!({
        "issuer": issuer,
        "authorization_endpoint": at("/oauth/authorize"),
        "token_endpoint": at("/oauth/token"),
        "userinfo_endpoint": at("/oauth/userinfo"),
        "jwks_uri": at("/.well-known/jwks.json"),
        "revocation_endpoint": at("/oauth/revoke"),
        "introspection_endpoint": at("/oauth/introspect"),
        "end_session_endpoint": at("/oauth/logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_token_algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": ["aal1", "aal2"],
        "ui_locales_supported": ["en"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_hang_off_the_issuer_and_only_s256_and_code_are_offered() {
        let doc = document("https://auth.example.com", &["RS256", "ES256"]);
        assert_eq!(doc["issuer"], "https://auth.example.com");
        assert_eq!(
            doc["authorization_endpoint"],
            "https://auth.example.com/oauth/authorize"
        );
        assert_eq!(
            doc["jwks_uri"],
            "https://auth.example.com/.well-known/jwks.json"
        );
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(doc["id_token_signing_alg_values_supported"][0], "RS256");
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    }
}
