//! The email flows: confirming an account, "password forgotten", and
//! changing the address.
//!
//! Each link is a challenge token minted by the mail worker at send time
//! (see `crate::mail`), bound to its purpose by the challenge action (E7):
//! a confirmation token cannot reset a password. Consuming a token is a
//! POST; a GET only shows a page (E5). Answers that could reveal whether an
//! address has an account are the same either way (L1), and so is the
//! work behind them (TT-05): forgot and resend claim the address's mail
//! slot in one durable write whether or not a mail goes, so an unknown
//! address costs what a known one does, and a repeat what a repeat does.
//! Every mail a request can send to an address of its choosing is
//! throttled per account and per address (TT-08).

use serde_json::json;

use super::{parse_email, Authenticated, RequestMeta, UserView};
use crate::app::AppState;
use crate::challenge::{ChallengeError, Control, Lookup, Namespace, VerifyOptions};
use crate::config::EmailMode;
use crate::domain::email::Email;
use crate::domain::locale::Locale;
use crate::error::ApiError;
use crate::mail::{
    LinkPath, LinkSpec, MailKind, OutgoingMail, ACTION_CONFIRM, ACTION_EMAIL_CHANGE, ACTION_RESET,
};
use crate::ratelimit::Bucket;
use crate::store::{AuditEvent, MailSlot, UserRecord};

/// One mail of a kind per address at most this often (challenge throttle).
pub const MAIL_THROTTLE_SECS: u64 = 60;

/// Forgot, resend, an email code's request and (with confirmation on) a
/// registration answer no sooner than this after they start (TT-05).
/// Both paths make the same durable write, but a known address also
/// queues its mail and wakes the mail worker: a few rows and some CPU,
/// tens of microseconds that enough requests would average out of any
/// network jitter. Padding every answer to a floor well above the work
/// hides what is left; under a load that pushes the work past the floor
/// the per-IP rate limit has long been the bottleneck.
pub const ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(25);

/// Runs `work` (its answer, and whether it queued mail, which it must not
/// wake the worker for), then, if it succeeded, waits out the rest of
/// [`ANSWER_FLOOR`] from `started`, and only after the answer wakes the
/// mail worker when `work` queued mail: its work during the wait woke the
/// runtime's timer sooner than an idle wait does, and right at the answer
/// it competed with writing it; either way known addresses measurably
/// answered at another time than unknown ones. A client gone during the
/// wait (the request's future dropped) still has its mail woken for.
pub(super) async fn at_floor<T, F>(
    state: &AppState,
    started: tokio::time::Instant,
    work: F,
) -> Result<T, ApiError>
where
    F: std::future::Future<Output = Result<(T, bool), ApiError>>,
{
    let (answer, queued) = work.await?;
    let _wake = WakeAfterAnswer(queued.then(|| state.clone()));
    tokio::time::sleep_until(started + ANSWER_FLOOR).await;
    Ok(answer)
}

/// How long after an answer at the floor the mail worker is woken.
const WAKE_AFTER_ANSWER: std::time::Duration = std::time::Duration::from_millis(5);

/// Wakes the mail worker [`WAKE_AFTER_ANSWER`] after it is dropped: at the
/// answer, or when the request is abandoned during the floor's wait. Woken
/// a little after the answer is on its way, so the worker's start does not
/// compete with writing it either.
struct WakeAfterAnswer(Option<AppState>);

impl Drop for WakeAfterAnswer {
    fn drop(&mut self) {
        let Some(state) = self.0.take() else { return };
        // Outside a runtime (never on a request path) the worker's own
        // poll finds the mail.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                tokio::time::sleep(WAKE_AFTER_ANSWER).await;
                mail_queued(&state);
            });
        }
    }
}

/// 404 `feature_disabled` when `[email] mode = "off"`.
pub fn require_email(state: &AppState) -> Result<(), ApiError> {
    if state.config.email.mode == EmailMode::Off {
        Err(ApiError::FeatureDisabled)
    } else {
        Ok(())
    }
}

fn email_on(state: &AppState) -> bool {
    state.config.email.mode != EmailMode::Off
}

/// The language of a mail to `user` caused by the request `meta`: the
/// user's own `locale`, else the request's; `None` leaves it to
/// `[branding] default_locale` (docs/languages.md).
pub fn mail_locale(user: Option<&UserRecord>, meta: &RequestMeta) -> Option<Locale> {
    user.and_then(|u| u.locale.as_deref())
        .and_then(Locale::from_tag)
        .or(meta.locale)
}

/// The confirmation mail for a new account.
pub fn confirm_account_mail(user: &UserRecord, meta: &RequestMeta) -> OutgoingMail {
    OutgoingMail {
        kind: MailKind::ConfirmAccount,
        to: user.email.clone(),
        user_id: Some(user.id.clone()),
        link: Some(LinkSpec {
            action: ACTION_CONFIRM.to_owned(),
            id: user.id.clone(),
            path: LinkPath::ConfirmEmail,
            metadata: json!({}),
        }),
        vars: json!({ "email": user.email }),
        locale: mail_locale(Some(user), meta),
    }
}

/// A notice without a link to `user`'s current address, about a change
/// the request `meta` made.
pub fn notice(
    kind: MailKind,
    user: &UserRecord,
    vars: serde_json::Value,
    meta: &RequestMeta,
) -> OutgoingMail {
    // The password-changed notice carries a reset link (minted when it is
    // sent, like any link): an owner who did not make the change takes the
    // account back from the mail itself, without hunting for a form.
    let link = (kind == MailKind::PasswordChangedNotice).then(|| LinkSpec {
        action: ACTION_RESET.to_owned(),
        id: user.id.clone(),
        path: LinkPath::ResetPassword,
        metadata: json!({}),
    });
    OutgoingMail {
        kind,
        to: user.email.clone(),
        user_id: Some(user.id.clone()),
        link,
        vars,
        locale: mail_locale(Some(user), meta),
    }
}

/// Notices go only when email is on.
pub fn if_email_on(state: &AppState, mail: OutgoingMail) -> Vec<OutgoingMail> {
    if email_on(state) {
        vec![mail]
    } else {
        Vec::new()
    }
}

/// Wakes the mail worker after a request queued mail.
pub fn mail_queued(state: &AppState) {
    if let Some(mailer) = &state.mailer {
        mailer.notify();
    }
}

/// Queues `mail` (to one of our users) unless a mail of its kind went to
/// them in the last [`MAIL_THROTTLE_SECS`]; the slot and the queued row are
/// one transaction. True when queued: the caller wakes the worker
/// ([`mail_queued`], or [`at_floor`] after the answer).
pub(super) async fn queue_throttled(
    state: &AppState,
    mail: OutgoingMail,
    event: Option<AuditEvent>,
) -> Result<bool, ApiError> {
    let now = state.now();
    let until = now.saturating_add(MAIL_THROTTLE_SECS as i64);
    Ok(state.store.queue_mail_once(mail, now, until, event).await?)
}

/// Queues `mails` (perhaps none) unless a mail of `kind` went to the
/// address `email_key` (or, with `user`, to that account) in the last
/// [`MAIL_THROTTLE_SECS`]: the slots, `event` and the queued rows are one
/// durable transaction. True when mail was queued: the caller wakes the
/// worker ([`mail_queued`]).
pub(super) async fn queue_per_address(
    state: &AppState,
    mails: Vec<OutgoingMail>,
    kind: MailKind,
    email_key: &str,
    user: Option<&UserRecord>,
    event: Option<AuditEvent>,
) -> Result<bool, ApiError> {
    let now = state.now();
    let until = now.saturating_add(MAIL_THROTTLE_SECS as i64);
    let mut slots = vec![MailSlot::address(email_key, kind)];
    if let Some(user) = user {
        slots.push(MailSlot::User {
            user_id: user.id.clone(),
            kind,
        });
    }
    let sends = !mails.is_empty();
    let queued = state
        .store
        .queue_mail_slotted(mails, slots, now, until, event)
        .await?;
    Ok(queued && sends)
}

/// `POST /v1/auth/confirm-email/resend`: 202 whatever the address, after
/// the same durable write whatever the address and no sooner than
/// [`ANSWER_FLOOR`] (TT-05).
pub async fn resend_confirmation(
    state: &AppState,
    email: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let started = tokio::time::Instant::now();
    let work = async { resend(state, email, meta).await.map(|queued| ((), queued)) };
    at_floor(state, started, work).await
}

/// True when mail was queued.
async fn resend(state: &AppState, email: &str, meta: &RequestMeta) -> Result<bool, ApiError> {
    require_email(state)?;
    meta.limit(state, Bucket::ConfirmResend).await?;
    let email = parse_email("email", email)?;
    let key = email.normalized();
    let kind = MailKind::ConfirmAccount;
    let user = state.store.user_by_email_key(&key).await?;
    match user {
        Some(user) if user.email_confirmed_at.is_none() && !user.disabled => {
            let mail = confirm_account_mail(&user, meta);
            queue_per_address(state, vec![mail], kind, &key, Some(&user), None).await
        }
        // Unknown, confirmed or disabled: no mail, the same slot.
        _ => queue_per_address(state, Vec::new(), kind, &key, None, None).await,
    }
}

/// `POST /v1/auth/password/forgot`: 202 whatever the address, after the
/// same durable write whatever the address and no sooner than
/// [`ANSWER_FLOOR`] (TT-05). Works for a locked-out account.
pub async fn forgot_password(
    state: &AppState,
    email: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let started = tokio::time::Instant::now();
    let work = async { forgot(state, email, meta).await.map(|queued| ((), queued)) };
    at_floor(state, started, work).await
}

/// True when mail was queued.
async fn forgot(state: &AppState, email: &str, meta: &RequestMeta) -> Result<bool, ApiError> {
    require_email(state)?;
    meta.limit(state, Bucket::PasswordForgot).await?;
    let email = parse_email("email", email)?;
    let key = email.normalized();
    let kind = MailKind::ResetPassword;
    let user = match state.store.user_by_email_key(&key).await? {
        Some(user) if !user.disabled => user,
        // Unknown or disabled: no mail, the same slot.
        _ => return queue_per_address(state, Vec::new(), kind, &key, None, None).await,
    };
    let mail = OutgoingMail {
        kind: MailKind::ResetPassword,
        to: user.email.clone(),
        user_id: Some(user.id.clone()),
        link: Some(LinkSpec {
            action: ACTION_RESET.to_owned(),
            id: user.id.clone(),
            path: LinkPath::ResetPassword,
            metadata: json!({}),
        }),
        vars: json!({ "email": user.email }),
        locale: mail_locale(Some(&user), meta),
    };
    let event = meta.event(
        state.now(),
        "password.reset_requested",
        Some(&user.id),
        json!({}),
    );
    queue_per_address(state, vec![mail], kind, &key, Some(&user), Some(event)).await
}

/// Reads a link token's purpose without consuming it; anything unusable is
/// 400 `invalid_token`, one answer for every failure.
async fn token_action(state: &AppState, token: &str) -> Result<(String, String), ApiError> {
    let record = state
        .challenges
        .info_in(Namespace::Toktok, Lookup::Token(token.to_owned()))
        .await
        .map_err(LinkTokenError)?;
    Ok((record.action, record.id))
}

/// The challenge engine refused an email link's token (confirm, reset,
/// change). Every refusal but a storage failure is one answer, 400
/// `invalid_token` (`crate::http::error`): the link is not telling why.
#[derive(Debug)]
pub struct LinkTokenError(pub ChallengeError);

/// Consumes a link token, which must be for `action`.
async fn consume(
    state: &AppState,
    token: &str,
    action: &str,
) -> Result<serde_json::Value, ApiError> {
    let options = VerifyOptions {
        erase: true,
        log: false,
        control: Some(Control {
            id: None,
            action: Some(action.to_owned()),
        }),
    };
    let record = state
        .challenges
        .verify_in(
            Namespace::Toktok,
            Lookup::Token(token.to_owned()),
            options,
            None,
        )
        .await
        .map_err(LinkTokenError)?;
    Ok(record.metadata)
}

/// `POST /v1/auth/confirm-email`: confirms a sign-up or a pending change of
/// address, and answers with the user.
pub async fn confirm_email(
    state: &AppState,
    token: &str,
    meta: &RequestMeta,
) -> Result<UserView, ApiError> {
    require_email(state)?;
    let (action, user_id) = token_action(state, token).await?;
    if action != ACTION_CONFIRM && action != ACTION_EMAIL_CHANGE {
        return Err(ApiError::InvalidLinkToken);
    }
    let metadata = consume(state, token, &action).await?;
    let now = state.now();
    let user = if action == ACTION_CONFIRM {
        let event = meta.event(now, "user.confirmed", Some(&user_id), json!({}));
        state.store.confirm_email(&user_id, now, event).await?
    } else {
        let new_email = metadata
            .get("new_email")
            .and_then(|v| v.as_str())
            .and_then(|s| Email::parse(s).ok())
            .ok_or(ApiError::InvalidLinkToken)?;
        let event = meta.event(now, "email.changed", Some(&user_id), json!({}));
        state
            .store
            .change_email(
                &user_id,
                new_email.as_str().to_owned(),
                new_email.normalized(),
                now,
                event,
            )
            .await?
    };
    let user = user.ok_or(ApiError::InvalidLinkToken)?;
    Ok(UserView::from(&user))
}

/// `POST /v1/auth/password/reset`: sets a new password from a reset link and
/// ends every session (E6); the user is not signed in.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    password: String,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    require_email(state)?;
    let (action, user_id) = token_action(state, token).await?;
    if action != ACTION_RESET {
        return Err(ApiError::InvalidLinkToken);
    }
    let user = state
        .store
        .user_by_id(&user_id)
        .await?
        .ok_or(ApiError::InvalidLinkToken)?;
    let email = Email::parse(&user.email).ok();
    state.policy.check(&password, email.as_ref())?;
    // Hash before consuming: an overloaded hasher must not burn the link.
    let phc = state.hasher.hash(password).await?;
    consume(state, token, ACTION_RESET).await?;
    let now = state.now();
    let event = meta.event(now, "password.reset", Some(&user.id), json!({}));
    let mails = if_email_on(
        state,
        notice(MailKind::PasswordChangedNotice, &user, json!({}), meta),
    );
    state
        .store
        .set_password(&user.id, phc, None, now, event, mails)
        .await?;
    mail_queued(state);
    Ok(())
}

/// `POST /v1/users/me/email`: mails a confirmation link to the new address
/// and a notice to the old one; the address changes only on confirmation.
/// An address another account holds gets nothing, and the answer is the
/// same. At most one request a minute per account and per new address
/// sends anything (TT-08); a throttled one answers the same too.
pub async fn request_email_change(
    state: &AppState,
    who: &Authenticated,
    new_email: &str,
    password: Option<String>,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    require_email(state)?;
    let new_email = parse_email("new_email", new_email)?;
    super::confirm_identity(state, who, password, "password", meta).await?;
    let key = new_email.normalized();
    if key == crate::domain::email::email_key(&who.user.email) {
        return Err(ApiError::field("new_email", "is already your address"));
    }
    let now = state.now();
    let taken = state.store.user_by_email_key(&key).await?.is_some();
    let event = meta.event(
        now,
        "email.change_requested",
        Some(&who.user.id),
        json!({ "taken": taken }),
    );
    let mut mails = vec![notice(
        MailKind::EmailChangeNotice,
        &who.user,
        json!({ "new_email": new_email.as_str() }),
        meta,
    )];
    if !taken {
        mails.push(OutgoingMail {
            kind: MailKind::ConfirmNewEmail,
            to: new_email.as_str().to_owned(),
            user_id: Some(who.user.id.clone()),
            link: Some(LinkSpec {
                action: ACTION_EMAIL_CHANGE.to_owned(),
                id: who.user.id.clone(),
                path: LinkPath::ConfirmEmail,
                metadata: json!({ "new_email": new_email.as_str() }),
            }),
            vars: json!({ "new_email": new_email.as_str() }),
            locale: mail_locale(Some(&who.user), meta),
        });
    }
    let kind = MailKind::ConfirmNewEmail;
    if queue_per_address(state, mails, kind, &key, Some(&who.user), Some(event)).await? {
        mail_queued(state);
    }
    Ok(())
}
