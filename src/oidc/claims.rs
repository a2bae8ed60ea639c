//! What an ID token and the userinfo endpoint say about a user (OIDC Core
//! §2, §5.1, §5.4): `sub` always; `email`, `email_verified` with scope
//! `email`; `name`, `preferred_username`, `locale`, `updated_at` with scope
//! `profile`.

use serde_json::{json, Map, Value};

use crate::store::UserRecord;

/// The claims of `user` the `scopes` allow.
pub fn user_claims(user: &UserRecord, scopes: &[String]) -> Map<String, Value> {
    let has = |scope: &str| scopes.iter().any(|s| s == scope);
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    if has("email") {
        claims.insert("email".into(), json!(user.email));
        claims.insert(
            "email_verified".into(),
            json!(user.email_confirmed_at.is_some()),
        );
    }
    if has("profile") {
        if let Some(name) = &user.name {
            claims.insert("name".into(), json!(name));
        }
        claims.insert("preferred_username".into(), json!(user.email));
        if let Some(locale) = user.metadata.get("locale").and_then(Value::as_str) {
            claims.insert("locale".into(), json!(locale));
        }
        claims.insert("updated_at".into(), json!(user.updated_at));
    }
    claims
}

/// How a session was signed in, for an ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub sid: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub aal: u8,
}

/// The claims of an ID token for `client_id`.
#[allow(clippy::too_many_arguments)]
pub fn id_token(
    issuer: &str,
    client_id: &str,
    user: &UserRecord,
    scopes: &[String],
    sign_in: &SignIn,
    nonce: Option<&str>,
    now: i64,
    ttl: i64,
) -> Value {
    let mut claims = user_claims(user, scopes);
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(client_id));
    claims.insert("azp".into(), json!(client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ttl));
    claims.insert("auth_time".into(), json!(sign_in.auth_time));
    claims.insert("amr".into(), json!(sign_in.amr));
    claims.insert(
        "acr".into(),
        json!(format!("aal{}", sign_in.aal.clamp(1, 2))),
    );
    claims.insert("sid".into(), json!(sign_in.sid));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    Value::Object(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRecord {
        UserRecord {
            id: "u1".into(),
            email: "ada@example.com".into(),
            email_confirmed_at: Some(5),
            name: Some("Ada".into()),
            role: "user".into(),
            metadata: json!({ "locale": "fr" }),
            app_metadata: json!({}),
            password_hash: None,
            disabled: false,
            created_at: 1,
            updated_at: 7,
            last_login_at: None,
            locale: None,
        }
    }

    #[test]
    fn scopes_decide_the_user_claims() {
        let only = user_claims(&user(), &["openid".into()]);
        assert_eq!(Value::Object(only), json!({ "sub": "u1" }));
        let all = user_claims(
            &user(),
            &["openid".into(), "email".into(), "profile".into()],
        );
        assert_eq!(
            Value::Object(all),
            json!({ "sub": "u1", "email": "ada@example.com", "email_verified": true,
                    "name": "Ada", "preferred_username": "ada@example.com", "locale": "fr",
                    "updated_at": 7 })
        );
    }

    #[test]
    fn an_id_token_names_its_client_session_and_nonce() {
        let sign_in = SignIn {
            sid: "s1".into(),
            auth_time: 90,
            amr: vec!["pwd".into()],
            aal: 1,
        };
        let claims = id_token(
            "https://i",
            "c1",
            &user(),
            &["openid".into()],
            &sign_in,
            Some("n"),
            100,
            300,
        );
        assert_eq!(
            claims,
            json!({ "sub": "u1", "iss": "https://i", "aud": "c1", "azp": "c1", "iat": 100,
                    "exp": 400, "auth_time": 90, "amr": ["pwd"], "acr": "aal1", "sid": "s1",
                    "nonce": "n" })
        );
    }
}
