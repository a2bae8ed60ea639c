//! The JWS signing algorithm a deployment uses (`[jwt] algorithm`): a value
//! the config parses and the JWT code obeys, so it lives below both.

use serde::{Deserialize, Serialize};

/// The signing algorithm, fixed by `[jwt] algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    EdDSA,
    ES256,
    RS256,
    HS256,
}

impl Algorithm {
    /// The JOSE name, as it appears in `alg` (same as the config string).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
            Algorithm::HS256 => "HS256",
        }
    }
}
