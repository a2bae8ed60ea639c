//! toktok: a self-hosted authentication server.
#![forbid(unsafe_code)]

pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod metrics;
pub mod ratelimit;
pub mod telemetry;
