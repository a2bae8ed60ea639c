//! HTTP handlers, one module per resource. Handlers translate between HTTP
//! and the services (`crate::accounts`); they hold no rules of their own.

pub mod admin;
pub mod auth;
pub mod challenges;
pub mod demo;
pub mod email;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod users;
