//! HTTP handlers, one module per resource. Handlers translate between HTTP
//! and the services (`crate::accounts`); they hold no rules of their own.

pub mod auth;
pub mod challenges;
pub mod extract;
pub mod ops;
pub mod users;
