//! Email addresses: the [`Email`] newtype and its parser.
//!
//! An email address enters toktok at registration, login, password-forgot
//! and email-change, and is the key users are found by. It is parsed once at
//! the edge ("parse, don't validate"): code that holds an `Email` knows it is
//! trimmed, has exactly one `@`, fits the SMTP length limits and has a domain
//! a mail server can be asked to deliver to.
//!
//! The check is deliberately modest. Full RFC 5322 grammar (quoted local
//! parts, comments, IP literals) accepts strings that no user types and many
//! mailers refuse, while a strict ASCII-only grammar refuses real addresses.
//! What is refused is what would make the address undeliverable or dangerous
//! in a mail header: whitespace, control characters, and the RFC 5322
//! "specials" that are only legal inside a quoted local part, which toktok does
//! not support.
//!
//! The domain is stored lowercased (DNS is case-insensitive); the local part
//! is stored as given, because it is the mailbox owner's to interpret and
//! mail is sent to it verbatim. Uniqueness of accounts is nevertheless
//! case-insensitive on the whole address, through [`Email::normalized`], so
//! `Alice@example.com` and `alice@example.com` cannot be two accounts.
//!
//! An address that Unicode compatibility normalisation (NFKC) would change
//! is refused (TT-11). U+212A KELVIN SIGN lowercases to an ASCII `k`, so
//! `\u{212A}ate@example.com` took the key of `kate@example.com` while every
//! mail went to the Kelvin address: anyone could squat an address for good.
//! Refusing rather than mapping keeps the stored address, the address mail
//! goes to and the address the key is made from one and the same string;
//! nobody types compatibility characters into an address on purpose. The
//! key is then NFKC of the lowercased address. [`plan_rekey`] applies the
//! rule to accounts stored before it (schema migration 8).

use std::collections::HashMap;
use std::fmt;

use unicode_normalization::UnicodeNormalization as _;

/// Longest address SMTP can carry in a path (RFC 5321 §4.5.3.1.3: 256 octets
/// including the angle brackets).
const MAX_EMAIL_BYTES: usize = 254;
/// RFC 5321 §4.5.3.1.1.
const MAX_LOCAL_BYTES: usize = 64;
/// RFC 1035 §2.3.4 (255 octets on the wire, 253 as text).
const MAX_DOMAIN_BYTES: usize = 253;
/// RFC 1035 §2.3.4.
const MAX_LABEL_BYTES: usize = 63;

/// A syntactically valid email address. See the module docs for the rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a string is not an [`Email`]. The messages are written to follow a
/// field name: "email is not a valid email address".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must not be empty")]
    Empty,
    #[error("is not a valid email address: it must contain exactly one @")]
    AtSign,
    #[error("is not a valid email address: the part before the @ is invalid")]
    LocalPart,
    #[error("is not a valid email address: the domain is invalid")]
    Domain,
    #[error("is not a valid email address: it is longer than 254 bytes")]
    TooLong,
    #[error(
        "is not a valid email address: it contains compatibility characters \
         (such as U+212A KELVIN SIGN or full-width letters); write it with the \
         ordinary characters"
    )]
    Compatibility,
}

impl Email {
    /// Parses an address typed by a user: surrounding whitespace is trimmed,
    /// the domain is lowercased, the local part is kept as given.
    pub fn parse(s: &str) -> Result<Email, EmailError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        let (local, domain) = match s.split_once('@') {
            Some((local, domain)) if !domain.contains('@') => (local, domain),
            _ => return Err(EmailError::AtSign),
        };
        if !valid_local_part(local) {
            return Err(EmailError::LocalPart);
        }
        // Lowercase before checking, so that the stored form is exactly what
        // was checked and parsing it again gives the same value.
        let domain = domain.to_lowercase();
        if !valid_domain(&domain) {
            return Err(EmailError::Domain);
        }
        let email = format!("{local}@{domain}");
        if email.len() > MAX_EMAIL_BYTES {
            return Err(EmailError::TooLong);
        }
        if !is_nfkc(&email) {
            return Err(EmailError::Compatibility);
        }
        Ok(Email(email))
    }

    /// The address as stored: local part as given, domain lowercased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key accounts are unique by: the whole address lowercased (toktok
    /// treats addresses case-insensitively), then NFKC.
    pub fn normalized(&self) -> String {
        email_key(&self.0)
    }

    /// The part before the `@`, as given.
    pub fn local_part(&self) -> &str {
        // `parse` guarantees exactly one '@', so the fallback is never taken;
        // it is there only to avoid an unwrap.
        self.0
            .split_once('@')
            .map_or(self.0.as_str(), |(local, _)| local)
    }

    /// The part after the `@`, lowercased.
    pub fn domain(&self) -> &str {
        // Same invariant as in `local_part`.
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }
}

/// Local part: 1..=64 bytes, no whitespace, no control characters, none of
/// the RFC 5322 specials that would need a quoted string (which toktok does
/// not accept, so they could only produce an undeliverable address or a
/// broken mail header). Non-ASCII is allowed (RFC 6531).
fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &[char] = &['(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '"'];
    (1..=MAX_LOCAL_BYTES).contains(&local.len())
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !SPECIALS.contains(&c))
}

/// Domain (already lowercased): 1..=253 bytes of dot-separated labels, each
/// 1..=63 bytes of ASCII letters, digits, hyphens or non-ASCII letters and
/// digits (internationalised domains), not starting or ending with a hyphen;
/// at least two labels, except for `localhost` (handy in development).
fn valid_domain(domain: &str) -> bool {
    if !(1..=MAX_DOMAIN_BYTES).contains(&domain.len()) {
        return false;
    }
    if !domain.contains('.') && domain != "localhost" {
        return false;
    }
    domain.split('.').all(valid_label)
}

fn valid_label(label: &str) -> bool {
    (1..=MAX_LABEL_BYTES).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
        })
}

fn is_nfkc(s: &str) -> bool {
    s.nfkc().eq(s.chars())
}

/// The uniqueness key of any stored address, valid under today's rules or
/// not: NFKC of the lowercased NFKC form.
pub fn email_key(address: &str) -> String {
    let folded: String = address.nfkc().collect::<String>().to_lowercase();
    folded.nfkc().collect()
}

/// What schema migration 8 does to the accounts stored before addresses
/// were NFKC-normalised (TT-11): new keys to set, and problems to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rekey {
    /// `(user id, new email_key)`: keys that change and collide with no
    /// other account under the new rule.
    pub updates: Vec<(String, String)>,
    /// Accounts whose stored address NFKC would change (such as a Kelvin
    /// sign): kept as they are, for the operator to look at.
    pub not_normalized: Vec<String>,
    /// Groups of accounts (ids) that the new rule gives one key: all keep
    /// their old keys, for the operator to resolve. Nothing is deleted.
    pub collisions: Vec<Vec<String>>,
}

impl Rekey {
    /// What an operator should look at, one line each (for `toktok
    /// check`): accounts left as they were by the re-key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.not_normalized.is_empty() {
            out.push(format!(
                "{} account(s) have an address with compatibility characters (such as a \
                 Kelvin sign), which new accounts cannot use: {}",
                self.not_normalized.len(),
                self.not_normalized.join(", ")
            ));
        }
        for group in &self.collisions {
            out.push(format!(
                "accounts {} are one address under the NFKC rule and keep their old keys: \
                 keep one, change or delete the others",
                group.join(", ")
            ));
        }
        out
    }
}

/// Plans [`Rekey`] for `(id, email, email_key)` rows.
pub fn plan_rekey(rows: &[(String, String, String)]) -> Rekey {
    let mut plan = Rekey::default();
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (id, email, _)) in rows.iter().enumerate() {
        if !is_nfkc(email) {
            plan.not_normalized.push(id.clone());
        }
        by_key.entry(email_key(email)).or_default().push(i);
    }
    let mut groups: Vec<(String, Vec<usize>)> = by_key.into_iter().collect();
    groups.sort();
    for (key, members) in groups {
        if members.len() > 1 {
            plan.collisions
                .push(members.iter().map(|&i| rows[i].0.clone()).collect());
        } else if rows[members[0]].2 != key {
            plan.updates.push((rows[members[0]].0.clone(), key));
        }
    }
    plan
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Email::parse(&s)
    }
}

impl TryFrom<&str> for Email {
    type Error = EmailError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Email::parse(s)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Email {
        match Email::parse(s) {
            Ok(e) => e,
            Err(err) => panic!("{s:?} should parse, got {err}"),
        }
    }

    #[test]
    fn compatibility_characters_are_refused() {
        // TT-11: the Kelvin sign squatted kate@example.com.
        for s in [
            "\u{212A}ate@example.com",
            "ｋate@example.com",
            "ﬁ@example.com",
            "kate@ｅxample.com",
            "a\u{2460}@example.com",
        ] {
            assert_eq!(Email::parse(s), Err(EmailError::Compatibility), "{s:?}");
        }
        // Ordinary non-ASCII stays allowed, and keys compare folded.
        assert_eq!(ok("Jöran@example.com").normalized(), "jöran@example.com");
        assert_eq!(ok("KATE@example.com").normalized(), "kate@example.com");
        assert_eq!(email_key("\u{212A}ate@example.com"), "kate@example.com");
        assert_eq!(email_key("ﬁ@example.com"), "fi@example.com");
    }

    #[test]
    fn the_rekey_plan_updates_lone_keys_and_reports_the_rest() {
        let row =
            |id: &str, email: &str, key: &str| (id.to_owned(), email.to_owned(), key.to_owned());
        let rows = [
            row("1", "kate@example.com", "kate@example.com"),
            // The squatter: old key already collided by lowercasing.
            row("2", "\u{212A}ate@example.com", "\u{212A}ate@example.com"),
            row("3", "ﬁ@example.com", "ﬁ@example.com"),
            row("4", "bob@example.com", "bob@example.com"),
            row("5", "ｂen@example.com", "ｂen@example.com"),
        ];
        let plan = plan_rekey(&rows);
        assert_eq!(plan.not_normalized, ["2", "3", "5"]);
        assert_eq!(plan.collisions, [vec!["1".to_owned(), "2".to_owned()]]);
        assert_eq!(
            plan.updates,
            [
                ("5".to_owned(), "ben@example.com".to_owned()),
                ("3".to_owned(), "fi@example.com".to_owned()),
            ]
        );
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for s in [
            "alice@example.com",
            "a@b.co",
            "first.last+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "user_name-1@xn--bcher-kva.example",
            "dev@localhost",
            "x!#$%&'*+/=?^_`{|}~-@example.com",
        ] {
            assert_eq!(ok(s).as_str(), s);
        }
    }

    #[test]
    fn accepts_internationalised_addresses() {
        let e = ok("José@Bücher.DE");
        assert_eq!(e.as_str(), "José@bücher.de");
        assert_eq!(e.local_part(), "José");
        assert_eq!(e.domain(), "bücher.de");
        ok("用户@例子.广告");
        ok("почта@пример.рф");
    }

    #[test]
    fn trims_and_lowercases_only_the_domain() {
        let e = ok("  \tAlice.Smith@Example.COM \n");
        assert_eq!(e.as_str(), "Alice.Smith@example.com");
        assert_eq!(e.local_part(), "Alice.Smith");
        assert_eq!(e.domain(), "example.com");
        assert_eq!(e.normalized(), "alice.smith@example.com");
        assert_eq!(e.to_string(), "Alice.Smith@example.com");
        assert_eq!(ok("dev@LOCALHOST").as_str(), "dev@localhost");
    }

    #[test]
    fn addresses_differing_in_case_share_a_key() {
        assert_eq!(
            ok("Alice@EXAMPLE.com").normalized(),
            ok("alice@example.COM").normalized()
        );
    }

    #[test]
    fn rejects_invalid_addresses() {
        let cases: &[(&str, EmailError)] = &[
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("alice", EmailError::AtSign),
            ("alice.example.com", EmailError::AtSign),
            ("a@b@example.com", EmailError::AtSign),
            ("@example.com", EmailError::LocalPart),
            ("al ice@example.com", EmailError::LocalPart),
            ("al\tice@example.com", EmailError::LocalPart),
            ("alice\r\nBcc: x@evil.com@example.com", EmailError::AtSign),
            ("alice\r\n@example.com", EmailError::LocalPart),
            ("al\u{0}ice@example.com", EmailError::LocalPart),
            ("al\u{a0}ice@example.com", EmailError::LocalPart),
            ("<alice>@example.com", EmailError::LocalPart),
            ("\"alice\"@example.com", EmailError::LocalPart),
            ("a,b@example.com", EmailError::LocalPart),
            ("alice@", EmailError::Domain),
            ("alice@example", EmailError::Domain),
            ("alice@.example.com", EmailError::Domain),
            ("alice@example.com.", EmailError::Domain),
            ("alice@example..com", EmailError::Domain),
            ("alice@-example.com", EmailError::Domain),
            ("alice@example-.com", EmailError::Domain),
            ("alice@exa_mple.com", EmailError::Domain),
            ("alice@exa mple.com", EmailError::Domain),
            ("alice@[127.0.0.1]", EmailError::Domain),
            ("alice@example.com\u{0}", EmailError::Domain),
            ("alice@☃.com", EmailError::Domain),
        ];
        for (input, want) in cases {
            assert_eq!(Email::parse(input).as_ref(), Err(want), "input {input:?}");
        }
    }

    #[test]
    fn enforces_length_limits() {
        let local64 = "a".repeat(64);
        ok(&format!("{local64}@example.com"));
        assert_eq!(
            Email::parse(&format!("{}@example.com", "a".repeat(65))),
            Err(EmailError::LocalPart)
        );

        let label63 = "b".repeat(63);
        ok(&format!("a@{label63}.com"));
        assert_eq!(
            Email::parse(&format!("a@{}.com", "b".repeat(64))),
            Err(EmailError::Domain)
        );

        // 4 labels of 63 + 3 dots = 255 bytes: too long for a domain.
        let domain255 = [label63.as_str(); 4].join(".");
        assert_eq!(
            Email::parse(&format!("a@{domain255}")),
            Err(EmailError::Domain)
        );
        // 253-byte domain: fine as a domain, but with "a@" the address is
        // 255 bytes, over the 254-byte limit.
        let domain253 = format!("{}.{}", [label63.as_str(); 3].join("."), "c".repeat(61));
        assert_eq!(domain253.len(), 253);
        assert_eq!(
            Email::parse(&format!("a@{domain253}")),
            Err(EmailError::TooLong)
        );
        // Exactly 254 bytes is accepted.
        let domain252 = format!("{}.{}", [label63.as_str(); 3].join("."), "c".repeat(60));
        assert_eq!(ok(&format!("a@{domain252}")).as_str().len(), 254);
    }

    #[test]
    fn errors_read_as_field_messages() {
        assert_eq!(
            EmailError::Domain.to_string(),
            "is not a valid email address: the domain is invalid"
        );
        assert!(EmailError::AtSign
            .to_string()
            .starts_with("is not a valid email address"));
    }

    #[test]
    fn serde_parses_at_the_edge() {
        let e: Email = serde_json::from_str("\" Bob@Example.org \"").unwrap();
        assert_eq!(e.as_str(), "Bob@example.org");
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"Bob@example.org\"");
        assert!(serde_json::from_str::<Email>("\"not-an-email\"").is_err());
    }

    fn label() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?",
            "[a-zA-Zäöüéßжя中文]{1,10}",
        ]
    }

    fn valid_email() -> impl Strategy<Value = String> {
        (
            "\\s{0,2}",
            "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,30}",
            prop::collection::vec(label(), 2..5),
        )
            .prop_map(|(ws, local, labels)| format!("{ws}{local}@{}{ws}", labels.join(".")))
    }

    proptest! {
        #[test]
        fn valid_addresses_parse_and_round_trip(s in valid_email()) {
            let e = Email::parse(&s).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
            prop_assert_eq!(e.as_str(), format!("{}@{}", e.local_part(), e.domain()));
        }

        #[test]
        fn anything_that_parses_round_trips(s in "\\PC{0,12}@\\PC{0,20}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(e.as_str().len() <= MAX_EMAIL_BYTES);
            }
        }

        #[test]
        fn normalized_is_idempotent(s in valid_email()) {
            let e = Email::parse(&s).unwrap();
            let n = e.normalized();
            let again = Email::parse(&n).unwrap();
            prop_assert_eq!(again.normalized(), n.clone());
            prop_assert_eq!(again.as_str(), n);
        }

        #[test]
        fn random_strings_never_panic(s in ".{0,300}") {
            let _ = Email::parse(&s);
        }

        #[test]
        fn random_bytes_as_lossy_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = Email::parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
