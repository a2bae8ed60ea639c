//! Sealed values: state the hosted pages hand to the browser and get back
//! (a pending authorization request, a logout request), protected by an
//! HMAC under a server secret so that nothing in them can be changed or
//! made up, and stored nowhere.
//!
//! The form is `base64url(JSON) "." base64url(HMAC-SHA256(purpose "." that))`:
//! the purpose keeps a value sealed for one use from being opened as
//! another. Sealing is not encryption: what is sealed was in the browser's
//! address bar already.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::authorize::AuthorizeRequest;

/// The longest sealed value opened; a longer one is refused unread.
pub const MAX_SEALED: usize = 16 * 1024;

/// How long a pending authorization may take to finish (sign-in, second
/// factor, consent): after this the user starts again at the client.
pub const FLOW_TTL: i64 = 30 * 60;

/// What the tag covers: the purpose, then the payload.
fn signed(purpose: &str, payload: &str) -> String {
    format!("{purpose}.{payload}")
}

/// Seals `value` for `purpose`.
pub fn seal<T: Serialize>(key: &hmac::Key, purpose: &str, value: &T) -> String {
    // Serialising plain data structures cannot fail.
    let json = serde_json::to_vec(value).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let mac =
        URL_SAFE_NO_PAD.encode(hmac::sign(key, signed(purpose, &payload).as_bytes()).as_ref());
    format!("{payload}.{mac}")
}

/// Opens a value sealed for `purpose`; `None` for anything else (changed,
/// made up, sealed for another purpose, too long, not the type).
pub fn open<T: DeserializeOwned>(key: &hmac::Key, purpose: &str, sealed: &str) -> Option<T> {
    if sealed.len() > MAX_SEALED {
        return None;
    }
    let (payload, mac) = sealed.rsplit_once('.')?;
    let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
    // In constant time: no timing says how much of a forged tag was right.
    hmac::verify(key, signed(purpose, payload).as_bytes(), &mac).ok()?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&json).ok()
}

/// A pending authorization: the checked request and when it began (for
/// `prompt=login` and `max_age`: a sign-in after this moment is fresh).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub request: AuthorizeRequest,
    pub started_at: i64,
}

const FLOW: &str = "toktok authorization flow";

/// Clock difference tolerated between instances, in seconds.
const LEEWAY: i64 = 30;

impl Flow {
    /// The flow as the pages carry it (`flow=` in URLs and forms).
    pub fn seal(&self, key: &hmac::Key) -> String {
        seal(key, FLOW, self)
    }

    /// A sealed flow that is still young enough at `now`.
    pub fn open(key: &hmac::Key, sealed: &str, now: i64) -> Option<Flow> {
        let flow: Flow = open(key, FLOW, sealed)?;
        let age = now - flow.started_at;
        ((-LEEWAY..=FLOW_TTL).contains(&age)).then_some(flow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::authorize::Prompt;

    fn key() -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32])
    }

    fn flow() -> Flow {
        Flow {
            request: AuthorizeRequest {
                client_id: "c".into(),
                redirect_uri: "https://app.example/cb".into(),
                scopes: vec!["openid".into()],
                state: Some("s".into()),
                nonce: None,
                code_challenge: "x".repeat(43),
                prompt: Prompt::default(),
                max_age: Some(60),
                login_hint: None,
                ui_locales: None,
            },
            started_at: 1000,
        }
    }

    #[test]
    fn a_flow_opens_until_it_is_too_old() {
        let sealed = flow().seal(&key());
        assert_eq!(Flow::open(&key(), &sealed, 1000), Some(flow()));
        assert_eq!(Flow::open(&key(), &sealed, 1000 + FLOW_TTL), Some(flow()));
        assert_eq!(Flow::open(&key(), &sealed, 1001 + FLOW_TTL), None);
        assert_eq!(
            Flow::open(&key(), &sealed, 900),
            None,
            "started in the future"
        );
        assert!(
            Flow::open(&key(), &sealed, 990).is_some(),
            "within the leeway"
        );
    }

    #[test]
    fn a_changed_forged_or_foreign_value_does_not_open() {
        let sealed = flow().seal(&key());
        let other = hmac::Key::new(hmac::HMAC_SHA256, &[8u8; 32]);
        assert_eq!(Flow::open(&other, &sealed, 1000), None, "another key");
        let (payload, mac) = sealed.rsplit_once('.').unwrap();
        let mut changed = flow();
        changed.request.redirect_uri = "https://evil.example/cb".into();
        let forged_payload = seal(&key(), FLOW, &changed);
        let forged = format!("{}.{mac}", forged_payload.split('.').next().unwrap());
        assert_eq!(Flow::open(&key(), &forged, 1000), None, "payload swapped");
        assert_eq!(Flow::open(&key(), payload, 1000), None, "no tag");
        let as_other: Option<Flow> = open(&key(), "logout", &sealed);
        assert_eq!(as_other, None, "sealed for another purpose");
        assert_eq!(Flow::open(&key(), &"a".repeat(MAX_SEALED + 1), 1000), None);
    }
}
