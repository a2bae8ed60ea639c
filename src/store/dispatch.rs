//! The `Store` methods that add nothing to the backend's: each hands its
//! arguments either to the operation of the same name in the contract
//! (`backend.rs`, where it is documented) or, for a write both backends
//! make with the same statements in the same order, to its flow
//! (`flows.rs`), run in one transaction by `Backend::write_flow`.

use super::flows::{self, storable};
use super::records::scopes_json;
use super::records::FactorSummary;
use super::{
    AdminChange, ApiKeyRecord, AuditEvent, AuditRow, KeyRow, LoginClient, MailSlot, ProfileChange,
    QueuedMail, RsaKeyRow, SessionRecord, Store, StoreError, UserRecord,
};
use crate::domain::mail::OutgoingMail;
use crate::store::records::{ChallengeRow, RowKey};

impl Store {
    /// Inserts a new user; `email_key` is the lower-cased email, the
    /// uniqueness key (a taken one is `Conflict("email")`).
    pub async fn insert_user(
        &self,
        user: UserRecord,
        email_key: String,
        event: AuditEvent,
        mails: Vec<OutgoingMail>,
    ) -> Result<(), StoreError> {
        self.write(move |tx| flows::insert_user(tx, &user, &email_key, &event, &mails))
            .await
    }

    /// See `Users::user_by_id` (`backend.rs`).
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.backend.user_by_id(id).await
    }

    /// See `Factors::factor_summary` (`backend.rs`).
    pub async fn factor_summary(&self, user_id: &str) -> Result<FactorSummary, StoreError> {
        self.backend.factor_summary(user_id).await
    }

    /// See `Users::user_by_email_key` (`backend.rs`).
    pub async fn user_by_email_key(&self, key: &str) -> Result<Option<UserRecord>, StoreError> {
        self.backend.user_by_email_key(key).await
    }

    /// Applies a profile edit and returns the user as it now is.
    pub async fn update_profile(
        &self,
        id: &str,
        change: ProfileChange,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<UserRecord>, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| flows::update_profile(tx, &id, &change, now, &event))
            .await
    }

    /// Sets a new password hash and ends every session but `keep` (all of
    /// them on a reset) and the pending reset and email-change links; the
    /// failed-login count starts again, and `mails` (the change notice) are
    /// queued in the same transaction.
    pub async fn set_password(
        &self,
        id: &str,
        phc: String,
        keep: Option<String>,
        now: i64,
        event: AuditEvent,
        mails: Vec<OutgoingMail>,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |tx| {
            flows::set_password(tx, &id, &phc, keep.as_deref(), now, &event, &mails)
        })
        .await
    }

    /// Marks the user's address confirmed (once) and returns the user.
    pub async fn confirm_email(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<UserRecord>, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| flows::confirm_email(tx, &id, now, &event))
            .await
    }

    /// Moves the user to a confirmed new address and ends every other
    /// pending link (they went to, or were about, the old address);
    /// `Conflict("email")` when another account took it in the meantime.
    pub async fn change_email(
        &self,
        id: &str,
        email: String,
        email_key: String,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<UserRecord>, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| flows::change_email(tx, &id, &email, &email_key, now, &event))
            .await
    }

    /// See `Users::queue_mail_slotted` (`backend.rs`).
    pub async fn queue_mail_slotted(
        &self,
        mails: Vec<OutgoingMail>,
        slots: Vec<MailSlot>,
        now: i64,
        until: i64,
        event: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        self.backend
            .queue_mail_slotted(mails, slots, now, until, event)
            .await
    }

    #[cfg(any(test, feature = "testing"))]
    /// See `Users::email_key_report` (`backend.rs`).
    pub async fn email_key_report(&self) -> Result<crate::domain::email::Rekey, StoreError> {
        self.backend.email_key_report().await
    }

    /// See `Users::sweep_mail_slots` (`backend.rs`).
    pub async fn sweep_mail_slots(&self, now: i64) -> Result<usize, StoreError> {
        self.backend.sweep_mail_slots(now).await
    }

    #[cfg(any(test, feature = "testing"))]
    /// Queues mail, with the audit event of the request, in one transaction.
    pub async fn queue_mail(
        &self,
        mails: Vec<OutgoingMail>,
        now: i64,
        event: Option<AuditEvent>,
    ) -> Result<(), StoreError> {
        self.write(move |tx| flows::queue_mail(tx, &mails, now, event.as_ref()))
            .await
    }

    /// Deletes a user; their sessions go with them (foreign key cascade).
    pub async fn delete_user(&self, id: &str, event: AuditEvent) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| flows::delete_user(tx, &id, &event))
            .await
    }

    #[cfg(any(test, feature = "testing"))]
    /// See `Users::login_failures` (`backend.rs`).
    pub async fn login_failures(&self, email_key: &str) -> Result<Option<(u32, i64)>, StoreError> {
        self.backend.login_failures(email_key).await
    }

    /// See `Users::record_login_failure` (`backend.rs`).
    pub async fn record_login_failure(
        &self,
        email_key: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<u32, StoreError> {
        self.backend
            .record_login_failure(email_key, now, event)
            .await
    }

    /// See `Sessions::create_session` (`backend.rs`).
    pub async fn create_session(
        &self,
        session: SessionRecord,
        email_key: String,
        rehash: Option<String>,
        verified: Option<String>,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.backend
            .create_session(session, email_key, rehash, verified, event)
            .await
    }

    /// See `Sessions::list_sessions` (`backend.rs`).
    pub async fn list_sessions(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.backend.list_sessions(user_id, now).await
    }

    /// Ends one session of a user; false when it is not theirs or already over.
    pub async fn end_session(
        &self,
        user_id: &str,
        sid: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        if !storable(sid) {
            return Ok(false);
        }
        let (user_id, sid) = (user_id.to_owned(), sid.to_owned());
        self.write(move |tx| flows::end_session(tx, &user_id, &sid, now, &event))
            .await
    }

    /// Ends every session of a user, and their pending reset and
    /// email-change links (TT-02).
    pub async fn end_all_sessions(
        &self,
        user_id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<usize, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| flows::end_all_sessions(tx, &user_id, now, &event))
            .await
    }

    /// See `Sessions::sweep_sessions` (`backend.rs`).
    pub async fn sweep_sessions(&self, now: i64, keep: i64) -> Result<usize, StoreError> {
        self.backend.sweep_sessions(now, keep).await
    }

    /// Stores a new key (by its hash) and its audit event together.
    pub async fn insert_api_key(
        &self,
        record: ApiKeyRecord,
        key_hash: String,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let scopes = scopes_json(&record.scopes)?;
        self.write(move |tx| flows::insert_api_key(tx, &record, &key_hash, &scopes, &event))
            .await
    }

    /// See `ApiKeys::list_api_keys` (`backend.rs`).
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.backend.list_api_keys().await
    }

    /// Revokes a live key; false when the id is unknown or already revoked.
    /// The event is written only when something changed.
    pub async fn revoke_api_key(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        if !storable(id) {
            return Ok(false);
        }
        let id = id.to_owned();
        self.write(move |tx| flows::revoke_api_key(tx, &id, now, &event))
            .await
    }

    /// See `Challenges::challenge` (`backend.rs`).
    pub(crate) async fn challenge(
        &self,
        key: RowKey,
        now: i64,
    ) -> Result<Option<ChallengeRow>, StoreError> {
        self.backend.challenge(key, now).await
    }

    /// See `Challenges::sweep_challenges` (`backend.rs`).
    pub(crate) async fn sweep_challenges(
        &self,
        now: i64,
        batch: usize,
    ) -> Result<usize, StoreError> {
        self.backend.sweep_challenges(now, batch).await
    }

    /// See `ChallengeKeys::challenge_keys_or_insert` (`backend.rs`).
    pub(crate) async fn challenge_keys_or_insert(
        &self,
        first: (String, Vec<u8>),
        now: i64,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.backend.challenge_keys_or_insert(first, now).await
    }

    #[cfg(any(test, feature = "testing"))]
    /// Adds a challenge AEAD key; the newest encrypts.
    pub(crate) async fn insert_challenge_key(
        &self,
        kid: String,
        key: Vec<u8>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(move |tx| flows::insert_challenge_key(tx, &kid, &key, now))
            .await
    }

    /// See `SigningKeys::signing_keys` (`backend.rs`).
    pub async fn signing_keys(&self, alg: &str) -> Result<Vec<KeyRow>, StoreError> {
        self.backend.signing_keys(alg).await
    }

    /// See `SigningKeys::insert_signing_key` (`backend.rs`).
    pub async fn insert_signing_key(&self, key: KeyRow) -> Result<(), StoreError> {
        self.backend.insert_signing_key(key).await
    }

    /// See `SigningKeys::insert_first_signing_key` (`backend.rs`).
    pub async fn insert_first_signing_key(&self, key: KeyRow) -> Result<bool, StoreError> {
        self.backend.insert_first_signing_key(key).await
    }

    /// See `SigningKeys::retire_signing_keys` (`backend.rs`).
    pub async fn retire_signing_keys(
        &self,
        alg: &str,
        retire: Vec<String>,
        forget: Vec<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend
            .retire_signing_keys(alg, retire, forget, now)
            .await
    }

    /// See `SigningKeys::server_secret` (`backend.rs`).
    pub async fn server_secret(
        &self,
        name: &'static str,
        now: i64,
        generate: fn() -> Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        self.backend.server_secret(name, now, generate).await
    }

    /// See `RsaKeys::rsa_keys` (`backend.rs`).
    pub async fn rsa_keys(&self) -> Result<Vec<RsaKeyRow>, StoreError> {
        self.backend.rsa_keys().await
    }

    /// See `RsaKeys::insert_first_rsa_key` (`backend.rs`).
    pub async fn insert_first_rsa_key(&self, key: RsaKeyRow) -> Result<bool, StoreError> {
        self.backend.insert_first_rsa_key(key).await
    }

    /// See `RsaKeys::rotate_rsa_key` (`backend.rs`).
    pub async fn rotate_rsa_key(&self, key: RsaKeyRow, now: i64) -> Result<(), StoreError> {
        self.backend.rotate_rsa_key(key, now).await
    }

    /// See `RsaKeys::retire_rsa_keys` (`backend.rs`).
    pub async fn retire_rsa_keys(
        &self,
        retire: Vec<String>,
        forget: Vec<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend.retire_rsa_keys(retire, forget, now).await
    }

    /// Gives back an attempt [`Store::take_login_attempt`] counted.
    pub async fn return_login_attempt(
        &self,
        email_key: &str,
        client: Option<&LoginClient>,
    ) -> Result<(), StoreError> {
        let key = email_key.to_owned();
        let client = client.map(|c| c.key.clone());
        self.write(move |tx| flows::return_login_attempt(tx, &key, client.as_deref()))
            .await
    }

    /// See `Lockout::login_succeeded` (`backend.rs`).
    pub async fn login_succeeded(
        &self,
        email_key: &str,
        client: Option<LoginClient>,
        user_id: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend
            .login_succeeded(email_key, client, user_id, now)
            .await
    }

    /// See `Lockout::sweep_lockout` (`backend.rs`).
    pub async fn sweep_lockout(
        &self,
        idle_before: i64,
        known_since: i64,
    ) -> Result<usize, StoreError> {
        self.backend.sweep_lockout(idle_before, known_since).await
    }

    #[cfg(any(test, feature = "testing"))]
    /// Queues `mail` in a transaction of its own (for mail that reports no
    /// other change). The caller then wakes the worker with
    /// `Mailer::notify`.
    pub async fn enqueue_mail(&self, mail: OutgoingMail, now: i64) -> Result<(), StoreError> {
        self.write(move |tx| flows::enqueue(tx, &mail, now)).await
    }

    /// See `Outbox::claim_mail` (`backend.rs`).
    pub async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        self.backend.claim_mail(now, lease_until, limit).await
    }

    /// See `Outbox::release_mail` (`backend.rs`).
    pub async fn release_mail(&self, ids: Vec<String>, now: i64) -> Result<(), StoreError> {
        self.backend.release_mail(ids, now).await
    }

    /// See `Outbox::mail_sent` (`backend.rs`).
    pub async fn mail_sent(&self, id: String) -> Result<(), StoreError> {
        self.backend.mail_sent(id).await
    }

    /// See `Outbox::mail_queued` (`backend.rs`).
    pub async fn mail_queued(&self, id: String) -> Result<bool, StoreError> {
        self.backend.mail_queued(id).await
    }

    /// A transient failure: one more attempt counted, next one at
    /// `next_attempt_at`. `error` must hold no secret.
    pub async fn reschedule_mail(
        &self,
        id: String,
        next_attempt_at: i64,
        error: String,
    ) -> Result<(), StoreError> {
        self.write(move |tx| flows::reschedule_mail(tx, &id, next_attempt_at, &error))
            .await
    }

    /// Gives a message up: marks the row failed (kept for a while, see
    /// [`Store::sweep_failed_mail`]) and writes a `mail.failed` audit event
    /// `{kind, attempts, error}` in the same transaction. `attempted` says
    /// whether this call follows an attempt (counted) or not (a stale or
    /// damaged row). Returns the attempts made in all.
    pub async fn give_up_mail(
        &self,
        mail: QueuedMail,
        now: i64,
        attempted: bool,
        error: String,
    ) -> Result<i64, StoreError> {
        self.write(move |tx| flows::give_up_mail(tx, &mail, now, attempted, &error))
            .await
    }

    /// See `Outbox::sweep_failed_mail` (`backend.rs`).
    pub async fn sweep_failed_mail(&self, failed_before: i64) -> Result<usize, StoreError> {
        self.backend.sweep_failed_mail(failed_before).await
    }

    /// See `Outbox::next_mail_due` (`backend.rs`).
    pub async fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        self.backend.next_mail_due().await
    }

    /// See `Outbox::outbox_depth` (`backend.rs`).
    pub async fn outbox_depth(&self) -> Result<i64, StoreError> {
        self.backend.outbox_depth().await
    }

    #[cfg(any(test, feature = "testing"))]
    /// See `Outbox::outbox_rows` (`backend.rs`).
    pub async fn outbox_rows(&self) -> Result<Vec<crate::store::OutboxRow>, StoreError> {
        self.backend.outbox_rows().await
    }

    /// See `Admin::list_users` (`backend.rs`).
    pub async fn list_users(
        &self,
        email_key: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        self.backend.list_users(email_key, after, limit).await
    }

    /// Applies an admin edit and writes `events`, in one transaction;
    /// `None` when there is no such user (nothing is written then).
    pub async fn admin_update_user(
        &self,
        id: &str,
        change: AdminChange,
        now: i64,
        events: Vec<AuditEvent>,
    ) -> Result<Option<UserRecord>, StoreError> {
        if !storable(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.write(move |tx| flows::admin_update_user(tx, &id, &change, now, &events))
            .await
    }

    /// Ends every session of a user and their pending reset and
    /// email-change links; `None` when there is no such user.
    pub async fn admin_end_sessions(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<usize>, StoreError> {
        if !storable(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.write(move |tx| flows::admin_end_sessions(tx, &id, now, &event))
            .await
    }

    /// Deletes a user with their toktok challenges (link tokens, mail
    /// slots); sessions and queued mail go by foreign-key cascade. False
    /// when there is no such user.
    pub async fn admin_delete_user(&self, id: &str, event: AuditEvent) -> Result<bool, StoreError> {
        if !storable(id) {
            return Ok(false);
        }
        let id = id.to_owned();
        self.write(move |tx| flows::admin_delete_user(tx, &id, &event))
            .await
    }

    /// See `Admin::audit_page` (`backend.rs`).
    pub async fn audit_page(
        &self,
        user_id: Option<String>,
        kind: Option<String>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRow>, StoreError> {
        self.backend.audit_page(user_id, kind, before, limit).await
    }

    /// See `Admin::sweep_audit` (`backend.rs`).
    pub async fn sweep_audit(&self, cutoff: i64, batch: usize) -> Result<usize, StoreError> {
        self.backend.sweep_audit(cutoff, batch).await
    }

    /// Appends one event on its own (for events with no state change).
    pub async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.write(move |tx| flows::audit(tx, &event)).await
    }

    #[cfg(any(test, feature = "testing"))]
    /// See `Audit::audit_kinds` (`backend.rs`).
    pub async fn audit_kinds(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.backend.audit_kinds(user_id).await
    }
}
