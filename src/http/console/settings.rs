//! The effective configuration as the settings page shows it: every
//! section and key of the running `Config`, with secrets redacted.
//!
//! The view is made from `Config`'s `Debug` form, so a key added to the
//! configuration shows up without a change here. Two layers keep secrets
//! out: every secret is held in `config::Secret`, whose `Debug` prints
//! `[redacted]`; and, in case a secret ever lands in a plain `String`,
//! every key whose name says it holds secret material ([`sensitive`]) has
//! its value replaced, whatever it holds. A test fills every secret of a
//! `Config` with a known value and finds none of them in the view.

use serde::Serialize;

use crate::config::Config;

/// What a redacted value reads.
pub const REDACTED: &str = "[redacted]";

/// Whether a key's name says its value is secret material.
pub fn sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["secret", "password", "private", "credential", "passphrase"]
        .iter()
        .any(|word| name.contains(word))
        || name == "key"
        || name.ends_with("_key")
        // database.url: a PostgreSQL URL carries its password.
        || name == "url"
        || name == "dsn"
}

/// One key and its value (pretty text, perhaps several lines).
#[derive(Debug, Serialize, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: String,
}

/// One `[section]` (or `[[providers]]`) of the configuration.
#[derive(Debug, Serialize, PartialEq)]
pub struct Section {
    pub name: String,
    pub entries: Vec<Entry>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `name: value` of a `Debug` line (a field), if it is one.
fn field(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.trim_start().split_once(": ")?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then_some((name, value))
}

/// `text` (pretty `Debug`) with the value of every [`sensitive`] field
/// replaced by [`REDACTED`], nested values included.
pub fn redact(text: &str) -> String {
    let mut out = Vec::new();
    // While inside a redacted nested value: the indent of its closing line.
    let mut skip: Option<usize> = None;
    for line in text.lines() {
        if let Some(at) = skip {
            let closes = line.trim_start().starts_with(['}', ')', ']']);
            if indent(line) <= at && closes {
                skip = None;
            }
            continue;
        }
        match field(line) {
            // A section (`Config`'s own fields, at indent 4) is never a
            // secret itself: `[password]` holds the hashing policy. Its
            // keys are judged one by one.
            Some((name, value)) if indent(line) > 4 && sensitive(name) => {
                let pad = &line[..indent(line)];
                out.push(format!("{pad}{name}: {REDACTED},"));
                if value.trim_end().ends_with(['{', '(', '[']) {
                    skip = Some(indent(line));
                }
            }
            _ => out.push(line.to_owned()),
        }
    }
    out.join("\n")
}

/// The configuration, section by section, secrets redacted.
pub fn sections(config: &Config) -> Vec<Section> {
    let text = redact(&format!("{config:#?}"));
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        let depth = indent(line);
        if depth == 4 {
            if let Some((name, _)) = field(line) {
                sections.push(Section {
                    name: name.to_owned(),
                    entries: Vec::new(),
                });
            }
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if depth < 8 {
            continue;
        }
        let own = line[8..].to_owned();
        match field(line).filter(|_| depth == 8) {
            Some((key, value)) => section.entries.push(Entry {
                key: key.to_owned(),
                value: value.to_owned(),
            }),
            None => match section.entries.last_mut() {
                // A value over several lines, or an entry of a list section.
                Some(entry) if depth > 8 || own.starts_with(['}', ')', ']']) => {
                    entry.value.push('\n');
                    entry.value.push_str(&own);
                }
                _ => section.entries.push(Entry {
                    key: String::new(),
                    value: own,
                }),
            },
        }
    }
    for entry in sections.iter_mut().flat_map(|s| s.entries.iter_mut()) {
        if !entry.value.contains('\n') {
            entry.value = entry.value.trim_end_matches(',').to_owned();
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::config::{AppleKey, ProviderConfig, ProviderKind, ResponseMode};

    /// Known values in every secret the configuration has.
    const SECRETS: [&str; 6] = [
        "jwt-secret-0123456789-0123456789-abc",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "smtp-password-s3cr3t",
        "postgres://toktok:db-pass-word@db/toktok",
        "provider-client-secret-xyz",
        "-----BEGIN PRIVATE KEY-----apple-private-key",
    ];

    fn config() -> Config {
        let mut c = Config::default();
        c.jwt.secret = Secret::new(SECRETS[0]);
        c.hooks.access_token.secret = Secret::new(SECRETS[1]);
        c.smtp.password = Secret::new(SECRETS[2]);
        c.smtp.username = "mailer".to_owned();
        c.database.url = Some(Secret::new(SECRETS[3]));
        c.providers.push(ProviderConfig {
            id: "apple".to_owned(),
            kind: ProviderKind::Oidc,
            name: "Apple".to_owned(),
            enabled: true,
            issuer: "https://appleid.apple.com".to_owned(),
            client_id: "com.example".to_owned(),
            client_secret: Secret::new(SECRETS[4]),
            scopes: vec!["openid".to_owned()],
            response_mode: ResponseMode::FormPost,
            apple: Some(AppleKey {
                team_id: "TEAM".to_owned(),
                key_id: "KEYID".to_owned(),
                private_key: Secret::new(SECRETS[5]),
            }),
            authorization_url: String::new(),
            token_url: "https://example.com/token".to_owned(),
            api_url: String::new(),
        });
        c
    }

    #[test]
    fn no_secret_reaches_the_view_and_the_rest_does() {
        let view = serde_json::to_string(&sections(&config())).unwrap();
        for secret in SECRETS {
            assert!(!view.contains(secret), "{secret} in {view}");
        }
        for shown in ["mailer", "appleid.apple.com", "com.example", "token_url"] {
            assert!(view.contains(shown), "{shown} missing from {view}");
        }
        let names: Vec<String> = sections(&config()).into_iter().map(|s| s.name).collect();
        for name in [
            "server",
            "jwt",
            "smtp",
            "database",
            "mfa",
            "providers",
            "hooks",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        // Every section shows its keys: a section named like a secret
        // (`[password]`, the hashing policy) is not hidden whole.
        for section in sections(&config()) {
            assert!(!section.entries.is_empty(), "[{}] is empty", section.name);
        }
        let password = sections(&config())
            .into_iter()
            .find(|s| s.name == "password")
            .unwrap();
        let iterations = password
            .entries
            .iter()
            .find(|e| e.key == "pbkdf2_iterations");
        assert_eq!(iterations.map(|e| e.value.as_str()), Some("600000"));
    }

    #[test]
    fn secrets_in_plain_strings_are_redacted_by_name() {
        let text = "Config {\n    smtp: SmtpConfig {\n        password: \"plain\",\n        \
                    host: \"h\",\n    },\n    x: X {\n        client_secret: Some(\n            \
                    \"plain2\",\n        ),\n        private_key: \"plain3\",\n        \
                    key_bits: 3072,\n    },\n}";
        let out = redact(text);
        for plain in ["plain", "plain2", "plain3"] {
            assert!(!out.contains(&format!("\"{plain}\"")), "{out}");
        }
        assert!(out.contains("key_bits: 3072"), "{out}");
        assert!(out.contains("host: \"h\""), "{out}");
        for name in [
            "jwt_secret",
            "smtp_password",
            "private_key",
            "url",
            "signing_key",
        ] {
            assert!(sensitive(name), "{name}");
        }
        for name in ["host", "token_url", "key_bits", "issuer", "username"] {
            assert!(!sensitive(name), "{name}");
        }
    }

    #[test]
    fn entries_are_keys_with_their_values() {
        let server = sections(&Config::default())
            .into_iter()
            .find(|s| s.name == "server")
            .unwrap();
        let listen = server.entries.iter().find(|e| e.key == "listen").unwrap();
        assert_eq!(listen.value, "127.0.0.1:8080");
    }
}
