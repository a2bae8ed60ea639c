//! Credentials: JWTs and their keys, password hashing, and the policies
//! around them. Free of HTTP.

pub mod jwt;
pub mod password;
