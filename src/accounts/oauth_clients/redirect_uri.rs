//! The rule of a redirect URI (docs/oidc.md "Redirect URIs"), as a check
//! and as the regular expression the OpenAPI document states; the two must
//! accept exactly the same strings, and a test holds them to it.
//!
//! The authorize endpoint compares a `redirect_uri` with the registered
//! ones as exact strings, so the rule is a grammar on the string as given,
//! not on what a URL parser makes of it: a parser drops tabs, reads `\`
//! as `/` and lower-cases hosts, and a check of its result would let in
//! strings that compare differently from what they address.

use url::Url;

/// The rule of [`check_redirect_uri`] as a regular expression, for the
/// OpenAPI document: the two must accept exactly the same strings (the
/// Schemathesis run holds them to it). `https://` with a DNS name (its last
/// label starting with a letter, so never a number the URL parser would
/// read as an address) or a dotted IPv4 address; `http://` only with
/// `localhost`, `127.0.0.1` or `[::1]`; an optional port up to 65535; then
/// a path or query without spaces, control characters, `*`, `#` or `\`.
// The schema states the same rule as a literal (http/oauth_clients.rs);
// a test holds the two to each other.
#[cfg(test)]
pub const REDIRECT_URI_PATTERN: &str = concat!(
    r"^(https://(([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*",
    r"|(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])",
    r"(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})",
    r"|http://(localhost|127\.0\.0\.1|\[::1\]))",
    r"(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
    r"([/?][^\s*#\\\u0000-\u001F\u007F-\u009F]*)?$"
);

/// The loopback hosts where plain `http` is allowed, as written in a URI.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// A DNS name as `REDIRECT_URI_PATTERN` has it.
fn dns_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let ok_label =
        |l: &&str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    labels.iter().all(ok_label)
        && labels
            .last()
            .is_some_and(|l| l.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()))
}

/// A dotted IPv4 address, each part 0 to 255 without leading zeros.
fn ipv4(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// A port of 1 to 5 digits up to 65535 (five digits without a leading 0).
fn port(digits: &str) -> bool {
    !digits.is_empty()
        && digits.len() <= 5
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() < 5
            || (!digits.starts_with('0') && digits.parse::<u32>().is_ok_and(|n| n <= 65535)))
}

/// One redirect URI: the reason it is refused, if it is. Exactly the
/// strings `REDIRECT_URI_PATTERN` matches pass; each refusal says which
/// rule failed.
pub fn check_redirect_uri(raw: &str) -> Result<(), String> {
    // The URL parser drops or rewrites these (tabs, newlines, `\` as `/`);
    // the authorize endpoint compares the string as given, so refuse them.
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err("must not contain spaces, control characters or '\\'".to_owned());
    }
    if raw.contains('*') {
        return Err("must not contain a wildcard '*'".to_owned());
    }
    if raw.contains('#') {
        return Err("must not have a fragment".to_owned());
    }
    let (secure, rest) = match (raw.strip_prefix("https://"), raw.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => {
            return Err(
                "must be an absolute URL starting with https:// (or http:// on \
                        localhost)"
                    .to_owned(),
            )
        }
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err("must not have a user name or password".to_owned());
    }
    let (host, port_digits) = if secure {
        match authority.split_once(':') {
            Some((host, digits)) => (host, Some(digits)),
            None => (authority, None),
        }
    } else {
        match LOOPBACK_HOSTS.iter().find(|h| authority.starts_with(**h)) {
            Some(h) => match &authority[h.len()..] {
                "" => (*h, None),
                more => match more.strip_prefix(':') {
                    Some(digits) => (*h, Some(digits)),
                    None => (authority, None),
                },
            },
            None => (authority, None),
        }
    };
    if !secure && !LOOPBACK_HOSTS.contains(&host) {
        return Err("must be https (http only on localhost, 127.0.0.1 or [::1])".to_owned());
    }
    if secure && !(ipv4(host) || dns_name(host)) {
        return Err("must have a DNS name or an IPv4 address as its host".to_owned());
    }
    if port_digits.is_some_and(|d| !port(d)) {
        return Err("must have a port from 0 to 65535".to_owned());
    }
    debug_assert!(tail.is_empty() || tail.starts_with(['/', '?']));
    // What passes the rules above is a URL; checked all the same, since
    // the authorize endpoint relies on it.
    Url::parse(raw).map_err(|e| format!("is not a URL: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_the_rules() {
        for ok in [
            "https://app.example.com/cb",
            "https://app.example.com/cb?x=1",
            "http://localhost:8000/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:3000/cb",
            "https://App.Example.com:65535/cb?x=1&y#".trim_end_matches('#'),
            "https://10.0.0.1/cb",
            "https://1password.com",
            "https://a.b.example?x",
        ] {
            assert_eq!(check_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://app.example.com/*",
            "https://*.example.com/cb",
            "https://app.example.com/cb#x",
            "https://app.example.com/cb#",
            "https://good@evil.example",
            "https://good:pw@evil.example/cb",
            "https://@evil.example/cb",
            "http://app.example.com/cb",
            "http://127.0.0.2/cb",
            "http://localhost.evil.example/cb",
            "/cb",
            "cb",
            "app.example.com/cb",
            "https:app.example.com/cb",
            "ftp://app.example.com/cb",
            "com.example.app:/cb",
            "javascript:alert(1)",
            "https://app.example.com/c b",
            "https://app.example.com/cb\n",
            "https://good.example\\@evil.example/",
            "",
            "HTTPS://app.example.com/cb",
            "https://app.example.com:65536/cb",
            "https://app.example.com:/cb",
            "https://1.2.3.4.5/",
            "https://010.0.0.1/",
            "https://999999/",
            "https://app.example.com./cb",
            "https://[::1]/cb",
            "http://localhost.:80/",
            "http://localhostx/",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// The pattern the document states and the check agree, on the
    /// examples above and on strings built from the parts that matter.
    #[test]
    fn the_documented_pattern_is_the_rule() {
        let pattern = regex::Regex::new(REDIRECT_URI_PATTERN).unwrap();
        let hosts = [
            "a",
            "a.b",
            "1a.b",
            "a.1b",
            "1.2.3.4",
            "256.1.1.1",
            "01.1.1.1",
            "a-.b",
            "-",
            "",
            "a..b",
            "localhost",
            "127.0.0.1",
            "[::1]",
            "[::2]",
            "a_b",
            "xn--bcher-kva.example",
        ];
        let ports = [
            "", ":", ":0", ":80", ":08080", ":65535", ":65536", ":99999", ":123456",
        ];
        let tails = [
            "", "/", "/cb", "?x=1", "/a b", "/*", "/é", "x", "/\u{7f}", "/\u{a0}", "/#", "/\\",
            "@evil", "/@",
        ];
        for scheme in ["https://", "http://", "HTTP://", "ftp://"] {
            for host in hosts {
                for port in ports {
                    for tail in tails {
                        let uri = format!("{scheme}{host}{port}{tail}");
                        assert_eq!(
                            pattern.is_match(&uri),
                            check_redirect_uri(&uri).is_ok(),
                            "{uri:?}"
                        );
                    }
                }
            }
        }
    }
}
