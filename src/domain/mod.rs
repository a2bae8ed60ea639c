//! Newtypes that parse at the edge: once a value has one of these types it
//! is known to be valid.

pub mod algorithm;
pub mod digest;
pub mod email;
pub mod locale;
pub mod mail;
pub mod metadata;
pub mod name;
pub mod password;
pub mod scope;
pub mod webhook;
