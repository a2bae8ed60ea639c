//! Identities at upstream providers and the provider sign-ins in flight
//! (`identities`, `provider_flows`; schema migration 13): the flows,
//! written once for both backends over [`Tx`], and the `Store` methods
//! that run them. The rules (who may link what) are in
//! `accounts::identities`; this file makes each decision's writes one
//! transaction.

use super::flows::{audit, insert_user, storable, Arg, Cell, Tx};
use super::{AuditEvent, Store, StoreError, UserRecord};

use Arg::{Int, OptText, Text};

/// One identity: an account at a provider, linked to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub id: String,
    pub user_id: String,
    /// The provider's configured id.
    pub provider: String,
    /// The provider's stable id of the account (`sub`, GitHub's user id).
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider vouched for `email`.
    pub email_verified: bool,
    pub name: Option<String>,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// A provider sign-in (or link) waiting for its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFlowRow {
    /// SHA-256 (hex) of the `state` sent to the provider.
    pub state_hash: String,
    pub provider: String,
    pub nonce: String,
    /// The PKCE verifier (RFC 7636), sent with the code at the callback.
    pub code_verifier: String,
    /// SHA-256 (hex) of the browser-binding cookie; `None` for a link
    /// started with an access token (its exchange needs that token).
    pub binding_hash: Option<String>,
    /// Where the browser goes after the callback (allow-listed).
    pub redirect_to: Option<String>,
    /// A sealed pending `/oauth/authorize` to continue instead.
    pub oauth_flow: Option<String>,
    /// Linking: the user who started it.
    pub link_user_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What an exchange code stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCode {
    /// The user to sign in (or, for a link, who started it).
    pub user_id: String,
    /// A link flow's identity (JSON of the fields to link), else `None`.
    pub identity: Option<String>,
    pub link_user_id: Option<String>,
    pub provider: String,
}

/// The answer of [`Store::unlink_identity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlink {
    Removed,
    NotFound,
    /// It is the user's last way to sign in.
    LastWay,
}

/// The answer of [`Store::link_identity`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Linked(IdentityRow),
    /// This user had it already (nothing written).
    AlreadyLinked(IdentityRow),
    /// Another user has it.
    Elsewhere,
}

/// How else a user can sign in, besides what is being removed: the
/// password and passkeys are read in the transaction; these come from
/// the configuration.
#[derive(Debug, Clone, Default)]
pub struct WaysIn {
    /// `[email_code] enabled`: the address is itself a way in.
    pub email_codes: bool,
    /// Ids of the enabled providers: only their identities count.
    pub providers: Vec<String>,
}

const COLUMNS: &str =
    "id, user_id, provider, subject, email, email_verified, name, created_at, last_login_at";

fn row(cells: &[Cell]) -> Result<IdentityRow, StoreError> {
    let cell = |i: usize| {
        cells
            .get(i)
            .ok_or_else(|| StoreError::Internal("an identities row is short".to_owned()))
    };
    Ok(IdentityRow {
        id: cell(0)?.text()?,
        user_id: cell(1)?.text()?,
        provider: cell(2)?.text()?,
        subject: cell(3)?.text()?,
        email: cell(4)?.opt_text()?,
        email_verified: cell(5)?.int()? != 0,
        name: cell(6)?.opt_text()?,
        created_at: cell(7)?.int()?,
        last_login_at: cell(8)?.opt_int()?,
    })
}

fn select(tx: &mut dyn Tx, filter: &str, args: &[Arg<'_>]) -> Result<Vec<IdentityRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM identities WHERE {filter} ORDER BY created_at, id");
    tx.query(&sql, args)?.iter().map(|r| row(r)).collect()
}

fn insert_identity(tx: &mut dyn Tx, i: &IdentityRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO identities (id, user_id, provider, subject, email, email_verified, name,
                created_at, last_login_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            Text(&i.id),
            Text(&i.user_id),
            Text(&i.provider),
            Text(&i.subject),
            OptText(i.email.as_deref()),
            Int(i64::from(i.email_verified)),
            OptText(i.name.as_deref()),
            Int(i.created_at),
            Arg::OptInt(i.last_login_at),
        ],
    )?;
    Ok(())
}

/// Whether `user_id` can still sign in without the passkey `but_passkey`
/// and the identity `but_identity`: a password, another passkey, an
/// identity of an enabled provider, or (with email codes on) the address.
/// The user row is locked first (the lock order of every flow on a user),
/// so two removals at once count one after the other.
pub(crate) fn other_way_in(
    tx: &mut dyn Tx,
    user_id: &str,
    but_passkey: Option<&str>,
    but_identity: Option<&str>,
    ways: &WaysIn,
) -> Result<Option<bool>, StoreError> {
    tx.execute(
        "UPDATE users SET updated_at = updated_at WHERE id = ?1",
        &[Text(user_id)],
    )?;
    let users = tx.query(
        "SELECT password_hash FROM users WHERE id = ?1",
        &[Text(user_id)],
    )?;
    let Some(password) = users.first().and_then(|r| r.first()) else {
        return Ok(None);
    };
    if password.opt_text()?.is_some() || ways.email_codes {
        return Ok(Some(true));
    }
    let passkeys = tx.query(
        "SELECT id FROM passkeys WHERE user_id = ?1",
        &[Text(user_id)],
    )?;
    for p in &passkeys {
        let id = p.first().map(Cell::text).transpose()?;
        if id.as_deref() != but_passkey {
            return Ok(Some(true));
        }
    }
    let identities = select(tx, "user_id = ?1", &[Text(user_id)])?;
    Ok(Some(identities.iter().any(|i| {
        Some(i.id.as_str()) != but_identity && ways.providers.contains(&i.provider)
    })))
}

/// What a provider flow row is taken for, once.
#[derive(Clone, Copy)]
enum Taken {
    /// Its `state`, by the callback.
    State,
    /// Its exchange code.
    Code,
}

/// Marks the flow row whose state (or code) hashes to `hash` used at
/// `now`, if it is live and unused, and reads `columns` of it. The
/// conditional UPDATE decides: of two takes at once, on either backend,
/// one changes the row and gets it.
fn take_once(
    tx: &mut dyn Tx,
    what: Taken,
    hash: &str,
    now: i64,
    columns: &str,
) -> Result<Option<Vec<Cell>>, StoreError> {
    let (key, used, expires) = match what {
        Taken::State => ("state_hash", "state_used_at", "expires_at"),
        Taken::Code => ("code_hash", "code_used_at", "code_expires_at"),
    };
    let taken = tx.execute(
        &format!(
            "UPDATE provider_flows SET {used} = ?2
              WHERE {key} = ?1 AND {used} IS NULL AND {expires} > ?2"
        ),
        &[Text(hash), Int(now)],
    )?;
    if taken != 1 {
        return Ok(None);
    }
    let sql = format!("SELECT {columns} FROM provider_flows WHERE {key} = ?1");
    Ok(tx.query(&sql, &[Text(hash)])?.into_iter().next())
}

/// Cell `i` of a provider flow row.
fn short(r: &[Cell], i: usize) -> Result<&Cell, StoreError> {
    r.get(i)
        .ok_or_else(|| StoreError::Internal("a provider_flows row is short".to_owned()))
}

impl Store {
    /// The identity `subject` at `provider`, whoever has it.
    pub async fn identity_by_subject(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<IdentityRow>, StoreError> {
        if !storable(subject) {
            return Ok(None);
        }
        let (provider, subject) = (provider.to_owned(), subject.to_owned());
        self.read(move |tx| {
            Ok(select(
                tx,
                "provider = ?1 AND subject = ?2",
                &[Text(&provider), Text(&subject)],
            )?
            .into_iter()
            .next())
        })
        .await
    }

    /// A user's identities, oldest first.
    pub async fn identities_of(&self, user_id: &str) -> Result<Vec<IdentityRow>, StoreError> {
        let user_id = user_id.to_owned();
        self.read(move |tx| select(tx, "user_id = ?1", &[Text(&user_id)]))
            .await
    }

    /// Stores a sign-in (or link) waiting for its callback.
    pub async fn insert_provider_flow(&self, flow: ProviderFlowRow) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO provider_flows (state_hash, provider, nonce, code_verifier,
                        binding_hash, redirect_to, oauth_flow, link_user_id, created_at,
                        expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                &[
                    Text(&flow.state_hash),
                    Text(&flow.provider),
                    Text(&flow.nonce),
                    Text(&flow.code_verifier),
                    OptText(flow.binding_hash.as_deref()),
                    OptText(flow.redirect_to.as_deref()),
                    OptText(flow.oauth_flow.as_deref()),
                    OptText(flow.link_user_id.as_deref()),
                    Int(flow.created_at),
                    Int(flow.expires_at),
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Takes the flow whose state hashes to `state_hash`, once: of two
    /// callbacks with one state, one gets it. `None` for an unknown,
    /// used or expired state.
    pub async fn take_provider_state(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<ProviderFlowRow>, StoreError> {
        if !storable(state_hash) {
            return Ok(None);
        }
        let hash = state_hash.to_owned();
        self.write(move |tx| {
            let columns = "state_hash, provider, nonce, code_verifier, binding_hash, redirect_to,
                           oauth_flow, link_user_id, created_at, expires_at";
            let taken = take_once(tx, Taken::State, &hash, now, columns)?;
            let Some(r) = taken else {
                return Ok(None);
            };
            let cell = |i: usize| short(&r, i);
            Ok(Some(ProviderFlowRow {
                state_hash: cell(0)?.text()?,
                provider: cell(1)?.text()?,
                nonce: cell(2)?.text()?,
                code_verifier: cell(3)?.text()?,
                binding_hash: cell(4)?.opt_text()?,
                redirect_to: cell(5)?.opt_text()?,
                oauth_flow: cell(6)?.opt_text()?,
                link_user_id: cell(7)?.opt_text()?,
                created_at: cell(8)?.int()?,
                expires_at: cell(9)?.int()?,
            }))
        })
        .await
    }

    /// Stores the one-use exchange code of a finished callback on its
    /// flow's row: `user_id` signs in (or, with `identity`, is linked to
    /// it), until `expires_at`.
    pub async fn set_provider_code(
        &self,
        state_hash: String,
        code_hash: String,
        user_id: String,
        identity: Option<String>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE provider_flows SET code_hash = ?2, code_user_id = ?3,
                        code_identity = ?4, code_expires_at = ?5
                  WHERE state_hash = ?1",
                &[
                    Text(&state_hash),
                    Text(&code_hash),
                    Text(&user_id),
                    OptText(identity.as_deref()),
                    Int(expires_at),
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Takes an exchange code once: `None` for an unknown, used or expired
    /// one. Of two exchanges at once, one gets it.
    pub async fn take_provider_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<ProviderCode>, StoreError> {
        if !storable(code_hash) {
            return Ok(None);
        }
        let hash = code_hash.to_owned();
        self.write(move |tx| {
            let columns = "code_user_id, code_identity, link_user_id, provider";
            let Some(r) = take_once(tx, Taken::Code, &hash, now, columns)? else {
                return Ok(None);
            };
            let cell = |i: usize| short(&r, i);
            let Some(user_id) = cell(0)?.opt_text()? else {
                return Ok(None);
            };
            Ok(Some(ProviderCode {
                user_id,
                identity: cell(1)?.opt_text()?,
                link_user_id: cell(2)?.opt_text()?,
                provider: cell(3)?.text()?,
            }))
        })
        .await
    }

    /// A provider sign-in of a known identity: its last use, and the
    /// provider's current email and name.
    pub async fn touch_identity(&self, identity: IdentityRow, now: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE identities SET last_login_at = ?2, email = ?3, email_verified = ?4,
                        name = ?5
                  WHERE id = ?1",
                &[
                    Text(&identity.id),
                    Int(now),
                    OptText(identity.email.as_deref()),
                    Int(i64::from(identity.email_verified)),
                    OptText(identity.name.as_deref()),
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// A new account signed up through a provider, with its identity and
    /// its `user.registered` event, in one transaction. `Conflict` when the
    /// address or the identity was taken meanwhile.
    pub async fn insert_user_with_identity(
        &self,
        user: UserRecord,
        email_key: String,
        identity: IdentityRow,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            insert_user(tx, &user, &email_key, &event, &[])?;
            insert_identity(tx, &identity)
        })
        .await
    }

    /// Links `identity` to its `user_id` with `event`, unless that
    /// provider account is linked already (see [`Link`]).
    pub async fn link_identity(
        &self,
        identity: IdentityRow,
        event: AuditEvent,
    ) -> Result<Link, StoreError> {
        self.write(move |tx| {
            let existing = select(
                tx,
                "provider = ?1 AND subject = ?2",
                &[Text(&identity.provider), Text(&identity.subject)],
            )?;
            if let Some(found) = existing.into_iter().next() {
                return Ok(if found.user_id == identity.user_id {
                    Link::AlreadyLinked(found)
                } else {
                    Link::Elsewhere
                });
            }
            insert_identity(tx, &identity)?;
            audit(tx, &event)?;
            Ok(Link::Linked(identity))
        })
        .await
    }

    /// Removes the identity `id` of `user_id` with `event`, unless it is
    /// the user's last way to sign in.
    pub async fn unlink_identity(
        &self,
        user_id: &str,
        id: &str,
        ways: WaysIn,
        event: AuditEvent,
    ) -> Result<Unlink, StoreError> {
        if !storable(id) {
            return Ok(Unlink::NotFound);
        }
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |tx| {
            let Some(other) = other_way_in(tx, &user_id, None, Some(&id), &ways)? else {
                return Ok(Unlink::NotFound);
            };
            let mine = select(tx, "id = ?1 AND user_id = ?2", &[Text(&id), Text(&user_id)])?;
            let Some(identity) = mine.into_iter().next() else {
                return Ok(Unlink::NotFound);
            };
            if !other {
                return Ok(Unlink::LastWay);
            }
            tx.execute(
                "DELETE FROM identities WHERE id = ?1 AND user_id = ?2",
                &[Text(&id), Text(&user_id)],
            )?;
            let mut event = event;
            event.detail = serde_json::json!({
                "identity": identity.id,
                "provider": identity.provider,
            });
            audit(tx, &event)?;
            Ok(Unlink::Removed)
        })
        .await
    }

    /// Deletes the provider flows that expired before `before`.
    pub async fn sweep_provider_flows(&self, before: i64) -> Result<usize, StoreError> {
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM provider_flows WHERE expires_at < ?1
                    AND (code_expires_at IS NULL OR code_expires_at < ?1)",
                &[Int(before)],
            )
        })
        .await
    }
}
