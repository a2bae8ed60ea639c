//! Email: what toktok sends, how it is queued durably, and how it leaves.
//!
//! A request that sends mail queues an [`OutgoingMail`] in the SQLite outbox
//! in the same transaction as the change it reports, then answers; the
//! outbox worker (`outbox.rs`) sends it through a transport (`transport.rs`:
//! dev-mode `.eml` files or SMTP), retrying with back-off. A queued message
//! holds no secret: a message with a link names the challenge to mint, and
//! the worker creates it — and so the token — only when it sends.

pub mod outbox;
pub mod templates;
pub mod transport;

#[cfg(any(test, feature = "testing"))]
pub use outbox::deliver_due;
pub use outbox::{Mailer, MailerParts};

pub use crate::domain::mail::{
    LinkPath, LinkSpec, MailKind, OutgoingMail, ACTION_CONFIRM, ACTION_EMAIL_CHANGE, ACTION_RESET,
};
