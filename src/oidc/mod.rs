//! toktok as an OpenID Connect provider (issue 19; docs/oidc.md): the
//! authorization code flow with PKCE, the token endpoint, ID tokens,
//! discovery. `http/oauth.rs` and `http/oauth_token.rs` translate HTTP;
//! the rules live here; the clients and consents are in `store/oauth.rs`,
//! the codes in `store/oauth_codes.rs`.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod code;
pub mod discovery;
pub mod pkce;
pub mod resource;
pub mod sealed;
pub mod token;
