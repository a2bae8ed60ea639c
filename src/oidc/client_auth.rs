//! Who is calling the token, revocation and introspection endpoints
//! (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`, or `none`
//! for a public client that names itself with `client_id`.
//!
//! Exactly one method per request: a secret both in the `Authorization`
//! header and in the body is `invalid_request` (§2.3: "MUST NOT use more
//! than one"). A confidential client must prove its secret; a public
//! client must not send one. The secret is compared by its SHA-256, the
//! only form toktok keeps, in constant time.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::token::{Form, OAuthError};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::store::OAuthClientRow;

/// A client's credentials as presented.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    /// `Authorization: Basic` was sent (well-formed or not): a failure then
    /// answers `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    pub basic_tried: bool,
    /// The id and secret of a well-formed `Basic` header.
    pub basic: Option<(String, String)>,
    /// `client_id` of the body.
    pub client_id: Option<String>,
    /// `client_secret` of the body.
    pub client_secret: Option<String>,
}

impl Presented {
    /// The credentials of a request with this `Authorization` header (any
    /// scheme but `Basic` is ignored here) and this body.
    pub fn read(authorization: Option<&str>, form: &Form) -> Presented {
        let basic_value = authorization.and_then(|h| {
            let (scheme, rest) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        });
        Presented {
            basic_tried: basic_value.is_some(),
            basic: basic_value.and_then(decode_basic),
            client_id: form.get("client_id").map(str::to_owned),
            client_secret: form.get("client_secret").map(str::to_owned),
        }
    }
}

/// `base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn decode_basic(value: &str) -> Option<(String, String)> {
    let bytes = STANDARD.decode(value).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// One `application/x-www-form-urlencoded` value.
fn form_decode(part: &str) -> Option<String> {
    if part.contains('&') {
        return None;
    }
    let pair = format!("v={part}");
    url::form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// Equality of two SHA-256 hex digests that takes the same time wherever
/// they differ.
fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The client these credentials prove. `public_ok`: a public client may
/// call (token and revocation endpoints); introspection is for
/// confidential clients only.
pub async fn authenticate(
    state: &AppState,
    presented: &Presented,
    public_ok: bool,
) -> Result<OAuthClientRow, OAuthError> {
    let basic = presented.basic_tried;
    let refuse = OAuthError::InvalidClient { basic };
    if basic && presented.client_secret.is_some() {
        return Err(OAuthError::InvalidRequest(
            "more than one client authentication method",
        ));
    }
    if basic && presented.basic.is_none() {
        return Err(refuse);
    }
    let (client_id, secret) = match &presented.basic {
        Some((id, secret)) => {
            if presented.client_id.as_deref().is_some_and(|c| c != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the Basic credentials",
                ));
            }
            (id.as_str(), Some(secret.as_str()))
        }
        None => match &presented.client_id {
            Some(id) => (id.as_str(), presented.client_secret.as_deref()),
            None => return Err(refuse),
        },
    };
    // Hashed before the lookup, so an unknown client costs the same.
    let presented_hash = secret.map(sha256_hex);
    let client = state
        .store
        .oauth_client(client_id)
        .await
        .map_err(OAuthError::store)?
        .ok_or(OAuthError::InvalidClient { basic })?;
    match (&client.secret_hash, presented_hash) {
        (Some(stored), Some(given)) if same_digest(stored, &given) => Ok(client),
        (None, None) if public_ok && client.client_type == "public" => Ok(client),
        _ => Err(refuse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_urlencoded_inside_base64() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret+x"));
        let form = Form::parse(b"").unwrap();
        let presented = Presented::read(Some(&header), &form);
        assert!(presented.basic_tried);
        assert_eq!(
            presented.basic,
            Some(("my app".to_owned(), "s:cret x".to_owned()))
        );
        let broken = Presented::read(Some("basic !!!"), &form);
        assert!(broken.basic_tried && broken.basic.is_none());
        let bearer = Presented::read(Some("Bearer abc"), &form);
        assert!(!bearer.basic_tried);
    }

    #[test]
    fn digests_compare_whole() {
        assert!(same_digest("abcd", "abcd"));
        assert!(!same_digest("abcd", "abce"));
        assert!(!same_digest("abcd", "abc"));
    }
}
