//! The browser's side of the hosted pages: the browser-session cookie and
//! CSRF tokens (docs/oidc.md "Hosted pages").
//!
//! **The browser session** is a toktok session like any other (signed in
//! through `accounts`, counted, listed, ended by logout-all, a password
//! reset, a disable or a delete), whose refresh token nobody holds. The
//! cookie names it: `<session id>.<HMAC(pages key, session id)>`, so a
//! cookie cannot be made up for a session, and it dies with its session —
//! there is nothing else to revoke. `__Host-toktok` (HttpOnly, Secure,
//! SameSite=Lax, Path=/); on a plain `http://` `public_url` (development and
//! tests) it is `toktok` without `Secure`, which browsers would drop.
//!
//! **CSRF**: every form carries `HMAC(pages key, "csrf." + c)` where `c` is a
//! random value in its own cookie (`__Host-toktok-csrf`, set by the page
//! showing the form). A cross-site page can neither read the cookie nor
//! compute the token, and a cross-site POST does not carry a Lax cookie.
//! This also guards the sign-in form itself (login CSRF).

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;

use crate::accounts::Authenticated;
use crate::app::AppState;
use crate::error::ApiError;

/// Whether cookies must be `Secure` (and may use the `__Host-` prefix).
fn secure(state: &AppState) -> bool {
    state.config.server.public_url.starts_with("https://")
}

/// The browser-session cookie's name.
pub fn session_cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-toktok"
    } else {
        "toktok"
    }
}

fn csrf_cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-toktok-csrf"
    } else {
        "toktok-csrf"
    }
}

/// The value of cookie `name` in the request, if it sent exactly one.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=') {
                if k == name {
                    if found.is_some() {
                        // Two cookies of one name (one planted by a sibling
                        // domain, say): trust neither.
                        return None;
                    }
                    found = Some(v);
                }
            }
        }
    }
    found
}

fn mac(state: &AppState, purpose: &str, value: &str) -> String {
    let tag = hmac::sign(&state.pages_key, format!("{purpose}.{value}").as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

fn mac_ok(state: &AppState, purpose: &str, value: &str, presented: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(presented) else {
        return false;
    };
    hmac::verify(
        &state.pages_key,
        format!("{purpose}.{value}").as_bytes(),
        &tag,
    )
    .is_ok()
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    cookie_with(state, name, value, max_age, "Lax")
}

/// [`set_cookie`] with another `SameSite` value (`None` only with `Secure`).
fn cookie_with(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
    same_site: &str,
) -> HeaderValue {
    let secure = if secure(state) { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    );
    // Names and values are base64url, dots and digits: always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The cookie that binds a provider sign-in to the browser that started
/// it (`accounts::identities`).
fn provider_cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-toktok-provider"
    } else {
        "toktok-provider"
    }
}

/// The browser's provider-binding cookie, if it sent one.
pub fn provider_binding<'h>(state: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    cookie(headers, provider_cookie_name(state))
}

/// The `Set-Cookie` of a provider sign-in's binding (`value`, for
/// `max_age` seconds; empty and 0 to forget it). A provider that answers
/// with a cross-site form POST (`form_post`, Apple) gets it with
/// `SameSite=None`, which browsers send on such a POST, and which needs
/// `Secure`: on plain http it stays `Lax`.
pub fn provider_cookie(
    state: &AppState,
    value: &str,
    max_age: i64,
    cross_site_post: bool,
) -> (axum::http::HeaderName, HeaderValue) {
    let same_site = if cross_site_post && secure(state) {
        "None"
    } else {
        "Lax"
    };
    let header = cookie_with(
        state,
        provider_cookie_name(state),
        value,
        max_age,
        same_site,
    );
    (SET_COOKIE, header)
}

/// The `Set-Cookie` that makes `who`'s session the browser's, for as long
/// as the session may live.
pub fn sign_in_cookie(
    state: &AppState,
    who: &Authenticated,
) -> (axum::http::HeaderName, HeaderValue) {
    let sid = &who.session.id;
    let value = format!("{sid}.{}", mac(state, "browser", sid));
    let max_age = (who.session.expires_at - state.now()).max(0);
    (
        SET_COOKIE,
        set_cookie(state, session_cookie_name(state), &value, max_age),
    )
}

/// The `Set-Cookie` that forgets the browser session.
pub fn sign_out_cookie(state: &AppState) -> (axum::http::HeaderName, HeaderValue) {
    (
        SET_COOKIE,
        set_cookie(state, session_cookie_name(state), "", 0),
    )
}

/// The browser's signed-in session, if its cookie names a live one.
pub async fn session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Authenticated>, ApiError> {
    let Some(value) = cookie(headers, session_cookie_name(state)) else {
        return Ok(None);
    };
    let Some((sid, tag)) = value.split_once('.') else {
        return Ok(None);
    };
    if !mac_ok(state, "browser", sid, tag) {
        return Ok(None);
    }
    let Some((session, user)) = state.store.live_session(sid, state.now()).await? else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    Ok(Some(Authenticated { user, session }))
}

/// A form's CSRF token, and the cookie to set when the browser has none yet.
pub struct Csrf {
    pub token: String,
    pub set_cookie: Option<(axum::http::HeaderName, HeaderValue)>,
}

/// The CSRF token for a page with a form.
pub fn csrf(state: &AppState, headers: &HeaderMap) -> Result<Csrf, ApiError> {
    if let Some(value) = cookie(headers, csrf_cookie_name(state)) {
        if value.len() == 43 {
            return Ok(Csrf {
                token: mac(state, "csrf", value),
                set_cookie: None,
            });
        }
    }
    let value = crate::accounts::tokens::random_jti()?;
    // A day: a form left open overnight still posts.
    let cookie = set_cookie(state, csrf_cookie_name(state), &value, 86_400);
    Ok(Csrf {
        token: mac(state, "csrf", &value),
        set_cookie: Some((SET_COOKIE, cookie)),
    })
}

/// Whether `token` is the CSRF token of the browser's CSRF cookie.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, token: &str) -> bool {
    cookie(headers, csrf_cookie_name(state))
        .is_some_and(|value| mac_ok(state, "csrf", value, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_read_once_and_two_of_a_name_are_neither() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; toktok=x.y; b=2"));
        assert_eq!(cookie(&h, "toktok"), Some("x.y"));
        assert_eq!(cookie(&h, "tok"), None);
        h.append(COOKIE, HeaderValue::from_static("toktok=z.w"));
        assert_eq!(cookie(&h, "toktok"), None);
    }
}
