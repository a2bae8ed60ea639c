//! Passkeys (`passkeys` table, schema migration 9): the flows, written once
//! for both backends over [`Tx`], and the `Store` methods that run them.

use super::flows::{audit, enqueue_all, Arg, Cell, Tx};
use super::identities::{other_way_in, WaysIn};
use super::{AuditEvent, Store, StoreError};
use crate::domain::mail::OutgoingMail;

use Arg::{Bool, Int, OptInt, Text};

/// One stored passkey.
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    /// base64url (unpadded) of the credential id.
    pub credential_id: String,
    pub name: String,
    /// webauthn-rs's serialised `Passkey` (`{"cred": …}`).
    pub credential: String,
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// What an assertion changed on its passkey.
#[derive(Debug, Clone)]
pub struct PasskeyUse {
    pub id: String,
    /// The counter the check was made against: the update happens only if
    /// it is still the stored one (two uses with one counter: one wins).
    pub old_count: i64,
    pub new_count: i64,
    pub credential: String,
    pub backed_up: bool,
    pub now: i64,
}

/// The answer of [`Store::remove_passkey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// No such passkey of this user.
    NotFound,
    /// It is the user's last way to sign in.
    LastWay,
}

const COLUMNS: &str = "id, user_id, credential_id, name, credential, sign_count,
    backup_eligible, backed_up, created_at, last_used_at";

fn row(cells: &[Cell]) -> Result<PasskeyRow, StoreError> {
    let cell = |i: usize| {
        cells
            .get(i)
            .ok_or_else(|| StoreError::Internal("a passkeys row is short".to_owned()))
    };
    Ok(PasskeyRow {
        id: cell(0)?.text()?,
        user_id: cell(1)?.text()?,
        credential_id: cell(2)?.text()?,
        name: cell(3)?.text()?,
        credential: cell(4)?.text()?,
        sign_count: cell(5)?.int()?,
        backup_eligible: cell(6)?.int()? != 0,
        backed_up: cell(7)?.int()? != 0,
        created_at: cell(8)?.int()?,
        last_used_at: cell(9)?.opt_int()?,
    })
}

fn select(tx: &mut dyn Tx, filter: &str, args: &[Arg<'_>]) -> Result<Vec<PasskeyRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE {filter} ORDER BY created_at, id");
    tx.query(&sql, args)?.iter().map(|r| row(r)).collect()
}

/// Inserts a passkey with its audit event and notice; `false` when the
/// credential is registered already (to anyone).
fn insert(
    tx: &mut dyn Tx,
    p: &PasskeyRow,
    event: &AuditEvent,
    mails: &[OutgoingMail],
) -> Result<bool, StoreError> {
    let taken = tx.query(
        "SELECT 1 FROM passkeys WHERE credential_id = ?1",
        &[Text(&p.credential_id)],
    )?;
    if !taken.is_empty() {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO passkeys (id, user_id, credential_id, name, credential, sign_count,
                backup_eligible, backed_up, created_at, last_used_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &[
            Text(&p.id),
            Text(&p.user_id),
            Text(&p.credential_id),
            Text(&p.name),
            Text(&p.credential),
            Int(p.sign_count),
            Bool(p.backup_eligible),
            Bool(p.backed_up),
            Int(p.created_at),
            OptInt(p.last_used_at),
        ],
    )?;
    audit(tx, event)?;
    enqueue_all(tx, mails, p.created_at)?;
    Ok(true)
}

/// Removes `id` of `user_id` unless it is the user's last way to sign in
/// (no password, no other passkey, no identity of an enabled provider, and
/// email codes off), ending the sessions it raised to `aal` 2.
fn remove(
    tx: &mut dyn Tx,
    user_id: &str,
    id: &str,
    ways: &WaysIn,
    now: i64,
    event: &AuditEvent,
) -> Result<Removal, StoreError> {
    // The user row is locked first (the lock order of every flow on a
    // user): two removals at once on PostgreSQL then count the passkeys one
    // after the other, and cannot both take one of the last two.
    let Some(other) = other_way_in(tx, user_id, Some(id), None, ways)? else {
        return Ok(Removal::NotFound);
    };
    let mine = select(tx, "user_id = ?1", &[Text(user_id)])?;
    if !mine.iter().any(|p| p.id == id) {
        return Ok(Removal::NotFound);
    }
    if !other {
        return Ok(Removal::LastWay);
    }
    let factor = format!("passkey:{id}");
    tx.execute(
        "UPDATE sessions SET revoked_at = ?3, revoked_reason = 'factor_removed'
             WHERE user_id = ?1 AND factor = ?2 AND revoked_at IS NULL",
        &[Text(user_id), Text(&factor), Int(now)],
    )?;
    tx.execute(
        "DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2",
        &[Text(id), Text(user_id)],
    )?;
    audit(tx, event)?;
    Ok(Removal::Removed)
}

impl Store {
    /// A user's passkeys, oldest first.
    pub async fn passkeys_of(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| select(tx, "user_id = ?1", &[Text(&user_id)]))
            .await
    }

    /// The passkey with this credential id (base64url), anyone's.
    pub async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, StoreError> {
        if !super::flows::storable(credential_id) {
            return Ok(None);
        }
        let credential_id = credential_id.to_owned();
        self.write(move |tx| {
            Ok(select(tx, "credential_id = ?1", &[Text(&credential_id)])?
                .into_iter()
                .next())
        })
        .await
    }

    /// Stores a new passkey, its audit event and notice in one
    /// transaction; `false` when its credential is registered already.
    pub async fn insert_passkey(
        &self,
        passkey: PasskeyRow,
        event: AuditEvent,
        mails: Vec<OutgoingMail>,
    ) -> Result<bool, StoreError> {
        self.write(move |tx| insert(tx, &passkey, &event, &mails))
            .await
    }

    /// Records an assertion: counter, backup state, credential, last use.
    /// `false` when the counter moved meanwhile (a concurrent use won).
    pub async fn passkey_used(&self, change: PasskeyUse) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE passkeys SET sign_count = ?3, credential = ?4, backed_up = ?5,
                        last_used_at = ?6
                     WHERE id = ?1 AND sign_count = ?2",
                &[
                    Text(&change.id),
                    Int(change.old_count),
                    Int(change.new_count),
                    Text(&change.credential),
                    Bool(change.backed_up),
                    Int(change.now),
                ],
            )?;
            Ok(n > 0)
        })
        .await
    }

    /// Renames a user's passkey; `None` when the user has no such passkey.
    pub async fn rename_passkey(
        &self,
        user_id: &str,
        id: &str,
        name: String,
    ) -> Result<Option<PasskeyRow>, StoreError> {
        if !super::flows::storable(id) {
            return Ok(None);
        }
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |tx| {
            tx.execute(
                "UPDATE passkeys SET name = ?3 WHERE id = ?1 AND user_id = ?2",
                &[Text(&id), Text(&user_id), Text(&name)],
            )?;
            Ok(
                select(tx, "id = ?1 AND user_id = ?2", &[Text(&id), Text(&user_id)])?
                    .into_iter()
                    .next(),
            )
        })
        .await
    }

    /// Removes a user's passkey (see [`Removal`]); the sessions whose
    /// factor it is end in the same transaction.
    pub async fn remove_passkey(
        &self,
        user_id: &str,
        id: &str,
        ways: WaysIn,
        now: i64,
        event: AuditEvent,
    ) -> Result<Removal, StoreError> {
        if !super::flows::storable(id) {
            return Ok(Removal::NotFound);
        }
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |tx| remove(tx, &user_id, &id, &ways, now, &event))
            .await
    }
}
