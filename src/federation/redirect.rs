//! `redirect_to` against `[accounts] allowed_redirects`: compared as parsed
//! URLs (scheme, host, port, then path at a `/` boundary), never as
//! strings (docs/SECURITY.md and the landscape review §5.6: Keycloak
//! CVE-2026-7504, Pocket ID CVE-2026-28512, GoTrue #1974).

use url::Url;

/// The URL to send the browser to, if `redirect_to` is allowed: the
/// parsed, re-serialised form (so what is checked is what is used).
///
/// Refused: anything but absolute `http(s)` URLs, userinfo (`legit@evil`),
/// a fragment (toktok appends its own), backslashes, encoded slashes,
/// backslashes or dots in the path (a server that decodes them could
/// climb out of the allowed prefix), control characters and whitespace;
/// then anything whose origin differs from every allowed entry's, or whose
/// path is not the allowed path or below it.
pub fn allowed(redirect_to: &str, allowlist: &[String]) -> Option<String> {
    if redirect_to.is_empty()
        || redirect_to.len() > 2048
        || redirect_to
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let url = Url::parse(redirect_to).ok()?;
    let path = url.path().to_ascii_lowercase();
    if ["%2f", "%5c", "%2e", "%00"]
        .iter()
        .any(|e| path.contains(e))
    {
        return None;
    }
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
        || url.host().is_none()
    {
        return None;
    }
    let fits = allowlist.iter().any(|entry| {
        let Ok(allowed) = Url::parse(entry) else {
            return false;
        };
        allowed.scheme() == url.scheme()
            && allowed.host() == url.host()
            && allowed.port_or_known_default() == url.port_or_known_default()
            && under(allowed.path(), url.path())
    });
    fits.then(|| url.to_string())
}

/// `path` is `base` or below it, at a segment boundary.
fn under(base: &str, path: &str) -> bool {
    if base == "/" || path == base {
        return true;
    }
    let base = base.trim_end_matches('/');
    path.strip_prefix(base)
        .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    fn list() -> Vec<String> {
        vec![
            "https://app.example.com/auth/".to_owned(),
            "http://127.0.0.1:3000/done".to_owned(),
        ]
    }

    #[test]
    fn an_allowed_url_and_those_below_it_pass() {
        let l = list();
        for ok in [
            "https://app.example.com/auth/",
            "https://app.example.com/auth/done",
            "https://app.example.com/auth/done?next=%2Fhome",
            "https://APP.example.com:443/auth/x",
            "http://127.0.0.1:3000/done",
            "http://127.0.0.1:3000/done/",
        ] {
            assert!(allowed(ok, &l).is_some(), "{ok}");
        }
        assert_eq!(
            allowed("https://APP.example.com:443/auth/x", &l).as_deref(),
            Some("https://app.example.com/auth/x")
        );
    }

    #[test]
    fn prefix_userinfo_scheme_and_encoding_tricks_are_refused() {
        let l = list();
        for bad in [
            // string prefix, not path prefix
            "https://app.example.com/authx",
            "https://app.example.com.evil.com/auth/",
            "http://127.0.0.1:3000/done-evil",
            "http://127.0.0.1:30001/done",
            // userinfo
            "https://app.example.com@evil.com/auth/",
            "https://user@app.example.com/auth/",
            "https://a@b@evil.com/auth/",
            // scheme
            "http://app.example.com/auth/",
            "javascript://app.example.com/auth/%0aalert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "//app.example.com/auth/",
            "/auth/",
            // dot segments and encoded separators
            "https://app.example.com/auth/../admin",
            "https://app.example.com/auth/%2e%2e/admin",
            "https://app.example.com/auth/%2E%2E/admin",
            "https://app.example.com/auth%2f..%2fadmin",
            "https://app.example.com/auth/..%5cadmin",
            "https://app.example.com\\@evil.com/auth/",
            "https://app.example.com/auth/\\evil",
            // whitespace, control characters, fragments
            "https://app.example.com/auth/ x",
            "https://app.example.com/auth/\nx",
            "https://app.example.com/auth/#x",
            "https://evil.com/auth/",
            "",
        ] {
            assert_eq!(allowed(bad, &l), None, "{bad}");
        }
        assert_eq!(allowed("https://app.example.com/auth/", &[]), None);
    }
}
