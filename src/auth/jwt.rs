//! JWT signing and verification (placeholder: being written).

use serde::{Deserialize, Serialize};

/// The signing algorithm, fixed by `[jwt] algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    EdDSA,
    ES256,
    RS256,
    HS256,
}
