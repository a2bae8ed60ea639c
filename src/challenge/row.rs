//! The shape in which a challenge is persisted: now defined with the other
//! persisted values in `crate::store::records` (so the store does not
//! import from the engine), re-exported here under the names the engine
//! has always used.

pub(crate) use crate::store::records::{ChallengeRow, RowChange, RowKey, Step};
pub use crate::store::records::{Namespace, LINK_PREFIX};
