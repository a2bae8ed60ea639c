//! The `Store` methods that add nothing to the backend's: each hands its
//! arguments to the operation of the same name in the contract
//! (`backend.rs`, where it is documented) and answers what it answers.

use super::{
    AdminChange, ApiKeyRecord, AuditEvent, AuditRow, KeyRow, LoginClient, MailSlot, OutboxRow,
    ProfileChange, QueuedMail, RsaKeyRow, SessionRecord, Store, StoreError, UserRecord,
};
use crate::challenge::row::{ChallengeRow, RowKey};
use crate::mail::OutgoingMail;

impl Store {
    /// See `Users::insert_user` (`backend.rs`).
    pub async fn insert_user(
        &self,
        user: UserRecord,
        email_key: String,
        event: AuditEvent,
        mails: Vec<OutgoingMail>,
    ) -> Result<(), StoreError> {
        self.backend
            .insert_user(user, email_key, event, mails)
            .await
    }

    /// See `Users::user_by_id` (`backend.rs`).
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.backend.user_by_id(id).await
    }

    /// See `Users::user_by_email_key` (`backend.rs`).
    pub async fn user_by_email_key(&self, key: &str) -> Result<Option<UserRecord>, StoreError> {
        self.backend.user_by_email_key(key).await
    }

    /// See `Users::update_profile` (`backend.rs`).
    pub async fn update_profile(
        &self,
        id: &str,
        change: ProfileChange,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.backend.update_profile(id, change, now).await
    }

    /// See `Users::set_password` (`backend.rs`).
    pub async fn set_password(
        &self,
        id: &str,
        phc: String,
        keep: Option<String>,
        now: i64,
        event: AuditEvent,
        mails: Vec<OutgoingMail>,
    ) -> Result<(), StoreError> {
        self.backend
            .set_password(id, phc, keep, now, event, mails)
            .await
    }

    /// See `Users::confirm_email` (`backend.rs`).
    pub async fn confirm_email(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.backend.confirm_email(id, now, event).await
    }

    /// See `Users::change_email` (`backend.rs`).
    pub async fn change_email(
        &self,
        id: &str,
        email: String,
        email_key: String,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.backend
            .change_email(id, email, email_key, now, event)
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

    /// See `Users::email_key_report` (`backend.rs`).
    pub async fn email_key_report(&self) -> Result<crate::domain::email::Rekey, StoreError> {
        self.backend.email_key_report().await
    }

    /// See `Users::sweep_mail_slots` (`backend.rs`).
    pub async fn sweep_mail_slots(&self, now: i64) -> Result<usize, StoreError> {
        self.backend.sweep_mail_slots(now).await
    }

    /// See `Users::queue_mail` (`backend.rs`).
    pub async fn queue_mail(
        &self,
        mails: Vec<OutgoingMail>,
        now: i64,
        event: Option<AuditEvent>,
    ) -> Result<(), StoreError> {
        self.backend.queue_mail(mails, now, event).await
    }

    /// See `Users::delete_user` (`backend.rs`).
    pub async fn delete_user(&self, id: &str, event: AuditEvent) -> Result<bool, StoreError> {
        self.backend.delete_user(id, event).await
    }

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

    /// See `Sessions::end_session` (`backend.rs`).
    pub async fn end_session(
        &self,
        user_id: &str,
        sid: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.backend.end_session(user_id, sid, now, event).await
    }

    /// See `Sessions::end_all_sessions` (`backend.rs`).
    pub async fn end_all_sessions(
        &self,
        user_id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<usize, StoreError> {
        self.backend.end_all_sessions(user_id, now, event).await
    }

    /// See `Sessions::sweep_sessions` (`backend.rs`).
    pub async fn sweep_sessions(&self, now: i64, keep: i64) -> Result<usize, StoreError> {
        self.backend.sweep_sessions(now, keep).await
    }

    /// See `ApiKeys::insert_api_key` (`backend.rs`).
    pub async fn insert_api_key(
        &self,
        record: ApiKeyRecord,
        key_hash: String,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        self.backend.insert_api_key(record, key_hash, event).await
    }

    /// See `ApiKeys::list_api_keys` (`backend.rs`).
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.backend.list_api_keys().await
    }

    /// See `ApiKeys::revoke_api_key` (`backend.rs`).
    pub async fn revoke_api_key(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.backend.revoke_api_key(id, now, event).await
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

    /// See `ChallengeKeys::insert_challenge_key` (`backend.rs`).
    pub(crate) async fn insert_challenge_key(
        &self,
        kid: String,
        key: Vec<u8>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend.insert_challenge_key(kid, key, now).await
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

    /// See `Lockout::return_login_attempt` (`backend.rs`).
    pub async fn return_login_attempt(
        &self,
        email_key: &str,
        client: Option<&LoginClient>,
    ) -> Result<(), StoreError> {
        self.backend.return_login_attempt(email_key, client).await
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

    /// See `Outbox::enqueue_mail` (`backend.rs`).
    pub async fn enqueue_mail(&self, mail: OutgoingMail, now: i64) -> Result<(), StoreError> {
        self.backend.enqueue_mail(mail, now).await
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

    /// See `Outbox::reschedule_mail` (`backend.rs`).
    pub async fn reschedule_mail(
        &self,
        id: String,
        next_attempt_at: i64,
        error: String,
    ) -> Result<(), StoreError> {
        self.backend
            .reschedule_mail(id, next_attempt_at, error)
            .await
    }

    /// See `Outbox::give_up_mail` (`backend.rs`).
    pub async fn give_up_mail(
        &self,
        mail: QueuedMail,
        now: i64,
        attempted: bool,
        error: String,
    ) -> Result<i64, StoreError> {
        self.backend.give_up_mail(mail, now, attempted, error).await
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

    /// See `Outbox::outbox_rows` (`backend.rs`).
    pub async fn outbox_rows(&self) -> Result<Vec<OutboxRow>, StoreError> {
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

    /// See `Admin::admin_update_user` (`backend.rs`).
    pub async fn admin_update_user(
        &self,
        id: &str,
        change: AdminChange,
        now: i64,
        events: Vec<AuditEvent>,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.backend
            .admin_update_user(id, change, now, events)
            .await
    }

    /// See `Admin::admin_end_sessions` (`backend.rs`).
    pub async fn admin_end_sessions(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<usize>, StoreError> {
        self.backend.admin_end_sessions(id, now, event).await
    }

    /// See `Admin::admin_delete_user` (`backend.rs`).
    pub async fn admin_delete_user(&self, id: &str, event: AuditEvent) -> Result<bool, StoreError> {
        self.backend.admin_delete_user(id, event).await
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

    /// See `Audit::audit` (`backend.rs`).
    pub async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.backend.audit(event).await
    }

    /// See `Audit::audit_kinds` (`backend.rs`).
    pub async fn audit_kinds(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.backend.audit_kinds(user_id).await
    }
}
