//! `toktok users export`: every user as an import line, in id order.

use serde_json::json;

use super::UserLine;
use crate::accounts::RequestMeta;
use crate::app::AppState;
use crate::error::ApiError;

/// Users read per page.
const PAGE: usize = 500;

/// Hands every user to `write` as the line an import reads, with its
/// password hash when `with_hashes`, then records `users.exported`.
/// Answers how many were written. `write` failing (a closed pipe, a full
/// disk) stops the export with its error.
pub async fn export_users<W>(
    state: &AppState,
    with_hashes: bool,
    actor: &str,
    mut write: W,
) -> Result<u64, anyhow::Error>
where
    W: FnMut(&UserLine) -> std::io::Result<()>,
{
    let mut after = None;
    let mut count = 0u64;
    loop {
        let page = state
            .store
            .list_users(None, after.take(), PAGE)
            .await
            .map_err(ApiError::from)?;
        for user in &page {
            write(&UserLine::export(user, with_hashes))?;
            count += 1;
        }
        if page.len() < PAGE {
            break;
        }
        after = page.last().map(|u| u.id.clone());
    }
    let mut event = RequestMeta::default().event(
        state.now(),
        "users.exported",
        None,
        json!({ "count": count, "with_hashes": with_hashes }),
    );
    event.actor = Some(actor.to_owned());
    state.store.audit(event).await.map_err(ApiError::from)?;
    Ok(count)
}
