//! Federation: signing in with another provider's account (Google,
//! Microsoft, GitLab and Apple as OpenID Connect providers; GitHub over
//! plain OAuth 2.0). toktok is the relying party here, the mirror image of
//! `crate::oidc`, where it is the provider.
//!
//! This folder holds the pure, strict checks the sign-in flow relies on,
//! free of HTTP and storage: the provider's key set ([`jwks`]), the ID token
//! it returns ([`id_token`], OIDC Core §3.1.3.7) and Apple's signed client
//! secret ([`apple`]).
//!
//! ID tokens are verified with toktok's own compact-JWS code
//! (`crate::auth::jwt`: canonical base64url, JSON without repeated
//! members, size cap, ring verifiers) rather than a JWT or OpenID Connect
//! crate. The `openidconnect` crate would bring in the `rsa` crate
//! (RUSTSEC-2023-0071), and reusing our code keeps every rule in view: the
//! algorithm must be allowed and match the key, no key is ever taken from
//! the token (`jku`, `jwk`, `x5c`, `x5u` refused), and every required claim
//! is checked unconditionally, so a token missing `exp` or `nonce` is
//! refused rather than let through.

pub mod apple;
pub mod id_token;
pub mod jwks;

#[cfg(test)]
mod tests;
