//! toktok as the client of other sign-in providers (issue 20;
//! docs/providers.md): OpenID Connect providers found by discovery, and
//! GitHub's OAuth 2.0. `accounts::identities` holds the linking rules;
//! this module speaks the protocols.
//!
//! ID tokens are verified by toktok's own strict JWS code (`auth::jwt`'s
//! parsing: canonical base64url, no duplicate JSON members, a header
//! allow-list) with the provider's JWKS, not by the `openidconnect` crate,
//! which would bring the `rsa` crate (RUSTSEC-2023-0071) back into the tree
//! and is looser than toktok's own checks on the points that hurt peers
//! (a missing `exp` is refused here, never skipped).
//!
//! Files: `upstream.rs` talks HTTP to the providers (discovery, keys,
//! token request, GitHub's API); `jwks.rs` reads a key set; `id_token.rs`
//! verifies an ID token; `apple.rs` makes Apple's client-secret JWT;
//! `redirect.rs` checks `redirect_to` against the allow-list.

pub mod apple;
pub mod id_token;
pub mod jwks;
pub mod redirect;
pub mod upstream;

#[cfg(test)]
mod tests;
