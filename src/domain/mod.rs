//! Newtypes that parse at the edge: once a value has one of these types it
//! is known to be valid.

pub mod algorithm;
pub mod email;
pub mod metadata;
pub mod name;
pub mod password;
