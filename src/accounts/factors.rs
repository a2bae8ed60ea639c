//! The signed-in user's factors at a glance (`GET /v1/users/me/factors`).

use serde::Serialize;

use super::passkeys::{self, PasskeyView};
use super::Authenticated;
use crate::app::AppState;
use crate::clock::rfc3339;
use crate::error::ApiError;

/// The overview of docs/API.md "Sign-in beyond passwords".
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(example = json!({
    "totp": { "created_at": "2026-12-04T10:00:00Z" },
    "passkeys": [{ "id": "0193…", "name": "Laptop", "created_at": "2026-12-01T09:00:00Z",
        "last_used_at": null, "backed_up": true }],
    "recovery_codes": { "remaining": 9 }
}))]
pub struct FactorsView {
    /// `null` while TOTP is off (a pending enrolment is not shown).
    #[schema(required = true)]
    pub totp: Option<TotpView>,
    pub passkeys: Vec<PasskeyView>,
    pub recovery_codes: RemainingView,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct TotpView {
    /// When TOTP was turned on (the confirmation).
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct RemainingView {
    /// Unused recovery codes of the current set.
    pub remaining: i64,
}

/// What the user has enrolled.
pub async fn factors(state: &AppState, who: &Authenticated) -> Result<FactorsView, ApiError> {
    let row = state.store.factors(&who.user.id).await?;
    Ok(FactorsView {
        totp: row.totp_since.map(|at| TotpView {
            created_at: rfc3339(at),
        }),
        passkeys: passkeys::list(state, &who.user.id).await?,
        recovery_codes: RemainingView {
            remaining: row.recovery_remaining,
        },
    })
}
