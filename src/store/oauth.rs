//! OAuth clients and users' consents to them (`oauth_clients`,
//! `oauth_consents`, schema migration 11): the flows, written once for both
//! backends over [`Tx`], and the `Store` methods that run them.
//!
//! A grant a client holds is a session with that `client_id`; so deleting
//! a client, or a user's consent to it, ends those sessions in the same
//! transaction as the delete and its audit event, and no token of the
//! client outlives the answer. The rules of what a client may be (redirect
//! URIs, grant types, scopes) are the domain's (`accounts::oauth_clients`):
//! the store keeps the lists as JSON arrays of strings, exactly as given.

use super::flows::{audit, Arg, Cell, Tx};
use super::{AuditEvent, Store, StoreError};

use Arg::{Bool, Int, OptText, Text};

/// One registered client, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientRow {
    pub client_id: String,
    pub name: String,
    /// `confidential` or `public`.
    pub client_type: String,
    /// SHA-256 (hex) of the secret; `None` for a public client.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// `aud` of the client's access tokens; `None`: `jwt.audience`.
    pub audience: Option<String>,
    pub skip_consent: bool,
    /// `id_token_signed_response_alg`: RS256, ES256 or EdDSA.
    pub id_token_alg: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What [`Store::update_oauth_client`] changes: `None` leaves a field as
/// it is; `audience: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthClientChange {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub audience: Option<Option<String>>,
    pub skip_consent: Option<bool>,
    pub id_token_alg: Option<String>,
}

/// One client a user granted access to, with the client's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "client_id, name, type, secret_hash, redirect_uris,
    post_logout_redirect_uris, grant_types, scopes, audience, skip_consent, id_token_alg,
    created_at, updated_at";

fn short(what: &str) -> StoreError {
    StoreError::Internal(format!("an {what} row is short"))
}

fn list_to_text(list: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(|e| StoreError::Internal(e.to_string()))
}

fn list_from_text(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("a stored list is not a JSON array: {e}")))
}

fn client_row(cells: &[Cell]) -> Result<OAuthClientRow, StoreError> {
    let cell = |i: usize| cells.get(i).ok_or_else(|| short("oauth_clients"));
    Ok(OAuthClientRow {
        client_id: cell(0)?.text()?,
        name: cell(1)?.text()?,
        client_type: cell(2)?.text()?,
        secret_hash: cell(3)?.opt_text()?,
        redirect_uris: list_from_text(&cell(4)?.text()?)?,
        post_logout_redirect_uris: list_from_text(&cell(5)?.text()?)?,
        grant_types: list_from_text(&cell(6)?.text()?)?,
        scopes: list_from_text(&cell(7)?.text()?)?,
        audience: cell(8)?.opt_text()?,
        skip_consent: cell(9)?.int()? != 0,
        id_token_alg: cell(10)?.text()?,
        created_at: cell(11)?.int()?,
        updated_at: cell(12)?.int()?,
    })
}

fn select_clients(
    tx: &mut dyn Tx,
    filter: &str,
    args: &[Arg<'_>],
) -> Result<Vec<OAuthClientRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM oauth_clients WHERE {filter} ORDER BY created_at, client_id"
    );
    tx.query(&sql, args)?
        .iter()
        .map(|r| client_row(r))
        .collect()
}

fn read_client(tx: &mut dyn Tx, client_id: &str) -> Result<Option<OAuthClientRow>, StoreError> {
    Ok(select_clients(tx, "client_id = ?1", &[Text(client_id)])?
        .into_iter()
        .next())
}

fn insert_client(tx: &mut dyn Tx, c: &OAuthClientRow) -> Result<(), StoreError> {
    let (redirects, logouts) = (
        list_to_text(&c.redirect_uris)?,
        list_to_text(&c.post_logout_redirect_uris)?,
    );
    let (grants, scopes) = (list_to_text(&c.grant_types)?, list_to_text(&c.scopes)?);
    tx.execute(
        "INSERT INTO oauth_clients (client_id, name, type, secret_hash, redirect_uris,
                post_logout_redirect_uris, grant_types, scopes, audience, skip_consent,
                id_token_alg, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        &[
            Text(&c.client_id),
            Text(&c.name),
            Text(&c.client_type),
            OptText(c.secret_hash.as_deref()),
            Text(&redirects),
            Text(&logouts),
            Text(&grants),
            Text(&scopes),
            OptText(c.audience.as_deref()),
            Bool(c.skip_consent),
            Text(&c.id_token_alg),
            Int(c.created_at),
            Int(c.updated_at),
        ],
    )?;
    Ok(())
}

/// Writes every changeable column of `c` (not its type, secret or
/// creation time).
fn write_client(tx: &mut dyn Tx, c: &OAuthClientRow) -> Result<(), StoreError> {
    let (redirects, logouts) = (
        list_to_text(&c.redirect_uris)?,
        list_to_text(&c.post_logout_redirect_uris)?,
    );
    let (grants, scopes) = (list_to_text(&c.grant_types)?, list_to_text(&c.scopes)?);
    tx.execute(
        "UPDATE oauth_clients
            SET name = ?2, redirect_uris = ?3, post_logout_redirect_uris = ?4,
                grant_types = ?5, scopes = ?6, audience = ?7, skip_consent = ?8,
                id_token_alg = ?9, updated_at = ?10
          WHERE client_id = ?1",
        &[
            Text(&c.client_id),
            Text(&c.name),
            Text(&redirects),
            Text(&logouts),
            Text(&grants),
            Text(&scopes),
            OptText(c.audience.as_deref()),
            Bool(c.skip_consent),
            Text(&c.id_token_alg),
            Int(c.updated_at),
        ],
    )?;
    Ok(())
}

fn apply(c: &mut OAuthClientRow, change: OAuthClientChange) {
    let OAuthClientChange {
        name,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        scopes,
        audience,
        skip_consent,
        id_token_alg,
    } = change;
    if let Some(v) = name {
        c.name = v;
    }
    if let Some(v) = redirect_uris {
        c.redirect_uris = v;
    }
    if let Some(v) = post_logout_redirect_uris {
        c.post_logout_redirect_uris = v;
    }
    if let Some(v) = grant_types {
        c.grant_types = v;
    }
    if let Some(v) = scopes {
        c.scopes = v;
    }
    if let Some(v) = audience {
        c.audience = v;
    }
    if let Some(v) = skip_consent {
        c.skip_consent = v;
    }
    if let Some(v) = id_token_alg {
        c.id_token_alg = v;
    }
}

/// Ends the live sessions of `client_id` (of one user, or of everyone).
fn end_client_sessions(
    tx: &mut dyn Tx,
    client_id: &str,
    user_id: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<usize, StoreError> {
    match user_id {
        Some(user_id) => tx.execute(
            "UPDATE sessions SET revoked_at = ?3, revoked_reason = ?4
              WHERE client_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
            &[Text(client_id), Text(user_id), Int(now), Text(reason)],
        ),
        None => tx.execute(
            "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3
              WHERE client_id = ?1 AND revoked_at IS NULL",
            &[Text(client_id), Int(now), Text(reason)],
        ),
    }
}

fn read_consent(
    tx: &mut dyn Tx,
    user_id: &str,
    client_id: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let rows = tx.query(
        "SELECT scopes FROM oauth_consents WHERE user_id = ?1 AND client_id = ?2",
        &[Text(user_id), Text(client_id)],
    )?;
    rows.first()
        .map(|r| list_from_text(&r.first().ok_or_else(|| short("oauth_consents"))?.text()?))
        .transpose()
}

/// `old` followed by what `new` adds, each scope once.
fn merged(old: Vec<String>, new: Vec<String>) -> Vec<String> {
    let mut out = old;
    for scope in new {
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    out
}

impl Store {
    /// Registers a client and writes `event`, in one transaction.
    pub async fn insert_oauth_client(
        &self,
        client: OAuthClientRow,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            insert_client(tx, &client)?;
            audit(tx, &event)
        })
        .await
    }

    /// The client with this id.
    pub async fn oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<OAuthClientRow>, StoreError> {
        if !super::flows::storable(client_id) {
            return Ok(None);
        }
        let client_id = client_id.to_owned();
        self.read(move |tx| read_client(tx, &client_id)).await
    }

    /// Every client, oldest first.
    pub async fn oauth_clients(&self) -> Result<Vec<OAuthClientRow>, StoreError> {
        self.read(|tx| select_clients(tx, "1 = 1", &[])).await
    }

    /// Applies `change` to the client, sets `updated_at` to `now` and
    /// writes `event`; `None` (nothing written) for an unknown id.
    pub async fn update_oauth_client(
        &self,
        client_id: &str,
        change: OAuthClientChange,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<OAuthClientRow>, StoreError> {
        if !super::flows::storable(client_id) {
            return Ok(None);
        }
        let client_id = client_id.to_owned();
        self.write(move |tx| {
            let Some(mut client) = read_client(tx, &client_id)? else {
                return Ok(None);
            };
            apply(&mut client, change);
            client.updated_at = now;
            write_client(tx, &client)?;
            audit(tx, &event)?;
            Ok(Some(client))
        })
        .await
    }

    /// Replaces a confidential client's secret hash and writes `event`;
    /// `None` (nothing written) for an unknown id or a public client.
    pub async fn rotate_oauth_client_secret(
        &self,
        client_id: &str,
        secret_hash: String,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<OAuthClientRow>, StoreError> {
        if !super::flows::storable(client_id) {
            return Ok(None);
        }
        let client_id = client_id.to_owned();
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE oauth_clients SET secret_hash = ?2, updated_at = ?3
                  WHERE client_id = ?1 AND type = 'confidential'",
                &[Text(&client_id), Text(&secret_hash), Int(now)],
            )?;
            if n != 1 {
                return Ok(None);
            }
            audit(tx, &event)?;
            read_client(tx, &client_id)
        })
        .await
    }

    /// Deletes a client with its consents, ends every live session of it
    /// (`client_deleted`) and writes `event`; `false` for an unknown id.
    pub async fn delete_oauth_client(
        &self,
        client_id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        if !super::flows::storable(client_id) {
            return Ok(false);
        }
        let client_id = client_id.to_owned();
        self.write(move |tx| {
            let n = tx.execute(
                "DELETE FROM oauth_clients WHERE client_id = ?1",
                &[Text(&client_id)],
            )?;
            if n != 1 {
                return Ok(false);
            }
            end_client_sessions(tx, &client_id, None, "client_deleted", now)?;
            audit(tx, &event)?;
            Ok(true)
        })
        .await
    }

    /// The scopes `user_id` granted `client_id`, if any.
    // Called by the authorize endpoint (the next change of issue 19) and
    // by the tests until then.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub async fn consent(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<Vec<String>>, StoreError> {
        if !super::flows::storable(user_id) || !super::flows::storable(client_id) {
            return Ok(None);
        }
        let (user_id, client_id) = (user_id.to_owned(), client_id.to_owned());
        self.read(move |tx| read_consent(tx, &user_id, &client_id))
            .await
    }

    /// Records that `user_id` grants `client_id` these scopes, added to
    /// what it granted before, and writes `event` (its `at` is the time of
    /// the grant). Answers the scopes now granted; `None` (nothing
    /// written) when the user or the client does not exist.
    // Likewise.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub async fn grant_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scopes: Vec<String>,
        event: AuditEvent,
    ) -> Result<Option<Vec<String>>, StoreError> {
        if !super::flows::storable(user_id) || !super::flows::storable(client_id) {
            return Ok(None);
        }
        let (user_id, client_id) = (user_id.to_owned(), client_id.to_owned());
        self.write(move |tx| {
            // The user row first, locked: the lock order of every flow on a
            // user (and it must exist).
            let users = tx.execute(
                "UPDATE users SET updated_at = updated_at WHERE id = ?1",
                &[Text(&user_id)],
            )?;
            if users != 1 || read_client(tx, &client_id)?.is_none() {
                return Ok(None);
            }
            let now = event.at;
            let all = match read_consent(tx, &user_id, &client_id)? {
                Some(old) => merged(old, scopes),
                None => merged(Vec::new(), scopes),
            };
            let text = list_to_text(&all)?;
            tx.execute(
                "INSERT INTO oauth_consents (user_id, client_id, scopes, granted_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (user_id, client_id) DO UPDATE
                    SET scopes = excluded.scopes, updated_at = excluded.updated_at",
                &[Text(&user_id), Text(&client_id), Text(&text), Int(now)],
            )?;
            audit(tx, &event)?;
            Ok(Some(all))
        })
        .await
    }

    /// A user's grants with their clients' names, oldest first.
    pub async fn consents_of(&self, user_id: &str) -> Result<Vec<ConsentRow>, StoreError> {
        let user_id = user_id.to_owned();
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT c.client_id, k.name, c.scopes, c.granted_at, c.updated_at
                   FROM oauth_consents c JOIN oauth_clients k ON k.client_id = c.client_id
                  WHERE c.user_id = ?1
                  ORDER BY c.granted_at, c.client_id",
                &[Text(&user_id)],
            )?;
            rows.iter()
                .map(|r| {
                    let cell = |i: usize| r.get(i).ok_or_else(|| short("oauth_consents"));
                    Ok(ConsentRow {
                        client_id: cell(0)?.text()?,
                        client_name: cell(1)?.text()?,
                        scopes: list_from_text(&cell(2)?.text()?)?,
                        granted_at: cell(3)?.int()?,
                        updated_at: cell(4)?.int()?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Removes the user's grant to `client_id`, ends the user's live
    /// sessions of that client (`consent_revoked`) and writes `event`;
    /// `false` (nothing written) when there is no such grant.
    pub async fn revoke_consent(
        &self,
        user_id: &str,
        client_id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        if !super::flows::storable(user_id) || !super::flows::storable(client_id) {
            return Ok(false);
        }
        let (user_id, client_id) = (user_id.to_owned(), client_id.to_owned());
        self.write(move |tx| {
            tx.execute(
                "UPDATE users SET updated_at = updated_at WHERE id = ?1",
                &[Text(&user_id)],
            )?;
            let n = tx.execute(
                "DELETE FROM oauth_consents WHERE user_id = ?1 AND client_id = ?2",
                &[Text(&user_id), Text(&client_id)],
            )?;
            if n != 1 {
                return Ok(false);
            }
            end_client_sessions(tx, &client_id, Some(&user_id), "consent_revoked", now)?;
            audit(tx, &event)?;
            Ok(true)
        })
        .await
    }
}

impl Store {
    /// Ends the browser session `sid` of `user_id` and every client session
    /// issued from it (RP-initiated logout), with `event`. Answers how many
    /// sessions ended.
    pub async fn end_browser_session(
        &self,
        user_id: &str,
        sid: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<usize, StoreError> {
        let (user_id, sid) = (user_id.to_owned(), sid.to_owned());
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE sessions SET revoked_at = ?3, revoked_reason = 'logout'
                  WHERE user_id = ?1 AND (id = ?2 OR parent_id = ?2) AND revoked_at IS NULL",
                &[Text(&user_id), Text(&sid), Int(now)],
            )?;
            audit(tx, &event)?;
            Ok(n)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::merged;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn merging_keeps_the_old_order_and_adds_each_new_scope_once() {
        assert_eq!(
            merged(v(&["openid", "email"]), v(&["email", "profile", "profile"])),
            v(&["openid", "email", "profile"])
        );
        assert_eq!(merged(Vec::new(), v(&["openid"])), v(&["openid"]));
    }
}
