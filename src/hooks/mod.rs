//! Hooks: toktok calling out to the application.
//!
//! - Webhooks: events (`user.created`, `session.revoked`, …) queued in the
//!   transaction of the change they report and delivered, signed per the
//!   Standard Webhooks specification, by a background worker with retries
//!   (`docs/webhooks.md`).
//! - The access-token hook: an HTTP call, signed the same way, that adds
//!   claims before an access token is issued.
//!
//! `signature.rs` signs both.

pub mod access_token;
pub mod deliver;
pub mod signature;
pub mod target;

pub use deliver::{Settings, Webhooks};
