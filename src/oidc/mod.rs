//! toktok as an OpenID Connect provider (issue 19; docs/oidc.md): the
//! authorization code flow with PKCE, the token endpoint, ID tokens,
//! discovery. `http/oauth.rs` translates HTTP; the rules live here; the
//! clients, codes and consents are in `store/oauth.rs`.

// The endpoints that use these land with the rest of issue 19; until then
// only the tests call them.
#![cfg_attr(not(test), allow(dead_code))]

pub mod authorize;
pub mod claims;
pub mod code;
pub mod discovery;
pub mod pkce;
pub mod sealed;
