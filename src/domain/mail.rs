//! What a queued message is: its kind, its recipient, the link it will
//! carry. Shared by the mail engine (`crate::mail`), which sends it, and the
//! store, which queues it in the same transaction as the change it reports.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::locale::Locale;

/// The messages toktok sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// "Confirm your account": link to confirm-email.
    ConfirmAccount,
    /// "Reset your password": link to the new-password form.
    ResetPassword,
    /// "Confirm your new address", sent to the new address.
    ConfirmNewEmail,
    /// "Your address is being changed", sent to the old address.
    EmailChangeNotice,
    /// "Your password was changed", with a reset link for an owner who did
    /// not change it.
    PasswordChangedNotice,
    /// "Someone tried to register with your address" (L1).
    RegistrationAttempt,
    /// "A passkey was added to your account".
    PasskeyAddedNotice,
    /// "Your sign-in code": a code and a link to sign in with.
    EmailCode,
    /// "TOTP was turned off on your account".
    TotpDisabledNotice,
    /// "An administrator removed your second factors".
    FactorsResetNotice,
}

impl MailKind {
    /// Every kind, in declaration order.
    pub const ALL: [MailKind; 10] = [
        MailKind::ConfirmAccount,
        MailKind::ResetPassword,
        MailKind::ConfirmNewEmail,
        MailKind::EmailChangeNotice,
        MailKind::PasswordChangedNotice,
        MailKind::RegistrationAttempt,
        MailKind::PasskeyAddedNotice,
        MailKind::EmailCode,
        MailKind::TotpDisabledNotice,
        MailKind::FactorsResetNotice,
    ];

    /// The kind named by [`MailKind::as_str`].
    pub fn parse(name: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            MailKind::ConfirmAccount => "confirm_account",
            MailKind::ResetPassword => "reset_password",
            MailKind::ConfirmNewEmail => "confirm_new_email",
            MailKind::EmailChangeNotice => "email_change_notice",
            MailKind::PasswordChangedNotice => "password_changed_notice",
            MailKind::RegistrationAttempt => "registration_attempt",
            MailKind::PasskeyAddedNotice => "passkey_added_notice",
            MailKind::EmailCode => "email_code",
            MailKind::TotpDisabledNotice => "totp_disabled_notice",
            MailKind::FactorsResetNotice => "factors_reset_notice",
        }
    }
}

/// Which page a link leads to (`{public_url}{path}?token=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPath {
    /// `/v1/auth/confirm-email`
    ConfirmEmail,
    /// `/v1/auth/password/reset`
    ResetPassword,
    /// `/v1/auth/email-code/verify`: the link carries a code's token; the
    /// worker mints a code and its token (`[email_code]` ttl and length).
    EmailCode,
}

impl LinkPath {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPath::ConfirmEmail => "/v1/auth/confirm-email",
            LinkPath::ResetPassword => "/v1/auth/password/reset",
            LinkPath::EmailCode => "/v1/auth/email-code/verify",
        }
    }
}

/// The challenge a link carries, minted by the worker at send time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkSpec {
    /// The challenge action, which binds the token to its purpose (E7):
    /// see the `ACTION_*` constants.
    pub action: String,
    /// The challenge id: the user's id.
    pub id: String,
    pub path: LinkPath,
    /// Stored on the challenge (e.g. `{"new_email": …}` for an email change).
    pub metadata: Value,
}

/// Challenge actions of the email flows.
pub const ACTION_CONFIRM: &str = "toktok:confirm-email";
pub const ACTION_RESET: &str = "toktok:password-reset";
pub const ACTION_EMAIL_CHANGE: &str = "toktok:email-change";

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMail {
    pub kind: MailKind,
    pub to: String,
    /// The account it concerns; its queued mail goes when the user is deleted.
    pub user_id: Option<String>,
    pub link: Option<LinkSpec>,
    /// Non-secret template variables (e.g. `{"new_email": …}`).
    pub vars: Value,
    /// The language to write it in: the recipient's own `locale`, else the
    /// language of the request that caused it; `None` leaves it to
    /// `[branding] default_locale` when it is sent. Stored in the outbox
    /// row's `vars` as `"locale"`.
    pub locale: Option<Locale>,
}
