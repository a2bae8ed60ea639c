//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): the
//! `whsec_` secret, and the `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` headers every delivery and every access-token hook
//! call carries.
//!
//! The signed content is `{id}.{timestamp}.{body}`, HMAC-SHA256 with the
//! secret's bytes (the base64 after `whsec_`), sent as `v1,<base64>`. The
//! official `standardwebhooks` packages (Python, Node) verify exactly this;
//! `tests/hooks/` runs them against toktok.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

pub use crate::domain::webhook::{SecretError, SECRET_PREFIX};

/// A signing secret. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningSecret {
    key: hmac::Key,
    text: String,
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(redacted)")
    }
}

impl SigningSecret {
    /// A new random secret of 32 bytes.
    pub fn generate() -> Result<SigningSecret, ring::error::Unspecified> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes)?;
        Ok(SigningSecret::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8]) -> SigningSecret {
        SigningSecret {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
            text: format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)),
        }
    }

    /// Reads `whsec_<base64>` (`domain::webhook::secret_bytes`).
    pub fn parse(text: &str) -> Result<SigningSecret, SecretError> {
        Ok(SigningSecret::from_bytes(
            &crate::domain::webhook::secret_bytes(text)?,
        ))
    }

    /// The `whsec_…` text: shown once when created, stored, configured.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The `webhook-signature` header value for one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body);
        format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
    }
}

/// The three headers of a signed request, in order: `webhook-id`,
/// `webhook-timestamp`, `webhook-signature`.
pub fn headers(
    secret: &SigningSecret,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", secret.sign(id, timestamp, body)),
    ]
}

/// A `POST` of the JSON `body` to `url`, signed with `secret` as message
/// `id` at `timestamp`: the request of a webhook delivery and of the
/// access-token hook alike.
pub fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &SigningSecret,
    id: &str,
    timestamp: i64,
    body: String,
) -> reqwest::RequestBuilder {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("toktok/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers(secret, id, timestamp, body.as_bytes()) {
        request = request.header(name, value);
    }
    request.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's own example (standard-webhooks/spec.md and the
    /// libraries' tests): this secret, id, timestamp and body sign to this.
    #[test]
    fn signs_the_specifications_example() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn refuses_what_is_not_a_secret() {
        assert_eq!(
            SigningSecret::parse("MfKQ9r8GKYqr").unwrap_err(),
            SecretError::Format
        );
        assert_eq!(
            SigningSecret::parse("whsec_!!").unwrap_err(),
            SecretError::Format
        );
        assert_eq!(
            SigningSecret::parse("whsec_AAAA").unwrap_err(),
            SecretError::Length
        );
        let made = SigningSecret::generate().unwrap();
        let again = SigningSecret::parse(made.expose()).unwrap();
        assert_eq!(made.sign("m", 1, b"x"), again.sign("m", 1, b"x"));
        assert!(!format!("{made:?}").contains("whsec"));
    }
}
