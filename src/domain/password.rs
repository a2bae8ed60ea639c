//! The password policy: which new passwords toktok accepts (docs/SECURITY.md
//! P2–P5, P7).
//!
//! It follows NIST SP 800-63B and OWASP ASVS 5.0 rather than folklore: a
//! minimum length (default 12) and a generous maximum, both counted in
//! Unicode code points after NFKC normalisation, so that a password means the
//! same thing however the user's keyboard encoded it; no composition rules
//! ("one digit, one symbol"), which push users to predictable patterns; no
//! truncation and no case folding of the password itself. What is refused
//! instead is what an attacker tries first: the most common passwords (the
//! top 30,000 of zxcvbn's frequency list, embedded in the binary) and the
//! user's own email address or its local part.
//!
//! The policy applies when a password is *set* (registration, change,
//! reset). Login never consults it, so tightening the policy cannot lock
//! anyone out.
//!
//! [`PasswordPolicy`] owns its common-password set and is built once at start
//! and kept in the application state, so there is no global.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

use crate::domain::email::Email;

/// Default minimum length in code points (docs/SECURITY.md P2).
pub const DEFAULT_MIN_LENGTH: usize = 12;
/// Default maximum length in code points; at least 128 must be accepted
/// (P3). Very long passwords are bounded anyway by the request-body limit
/// before they reach the policy or the hasher.
pub const DEFAULT_MAX_LENGTH: usize = 256;

/// Most common first, one lowercase password a line.
const COMMON_PASSWORDS: &str = include_str!("../auth/common_passwords.txt");

/// Decides whether a candidate password may be set.
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    /// Shortest acceptable password, in code points after NFKC.
    min_length: usize,
    /// Longest acceptable password, in code points after NFKC. Bounds the
    /// work one request can cause and the size of what we hash.
    max_length: usize,
    /// Lowercase common passwords. Borrowed from the list embedded in the
    /// binary, so building the set copies no strings.
    common: HashSet<&'static str>,
}

/// Why a password was refused. Messages are written to follow a field name:
/// "password must be at least 12 characters".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("is too common")]
    Common,
    #[error("must not be your email address")]
    SameAsEmail,
}

impl PasswordPolicy {
    /// Builds the policy and its common-password set (about 30,000 entries;
    /// do this once at start-up, not per request).
    pub fn new(min_length: usize, max_length: usize) -> Self {
        let common = COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        PasswordPolicy {
            min_length,
            max_length,
            common,
        }
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Checks a candidate password for an account with this email. Length
    /// counted in Unicode code points AFTER NFKC normalisation. No
    /// composition rules, no case folding of the password itself.
    ///
    /// Checks run in order length, email, common list, and the first
    /// failure is returned: that order gives the most actionable message.
    pub fn check(&self, password: &str, email: Option<&Email>) -> Result<(), PasswordProblem> {
        let normalized = normalize(password);
        let length = normalized.chars().count();
        if length < self.min_length {
            return Err(PasswordProblem::TooShort {
                min: self.min_length,
            });
        }
        if length > self.max_length {
            return Err(PasswordProblem::TooLong {
                max: self.max_length,
            });
        }
        // Case-insensitive comparisons only: the password itself is never
        // case-folded for hashing.
        let lowered = normalized.to_lowercase();
        if let Some(email) = email {
            let same = |s: &str| normalize(s).to_lowercase() == lowered;
            if same(email.as_str()) || same(email.local_part()) {
                return Err(PasswordProblem::SameAsEmail);
            }
        }
        if self.common.contains(lowered.as_str()) {
            return Err(PasswordProblem::Common);
        }
        Ok(())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy::new(DEFAULT_MIN_LENGTH, DEFAULT_MAX_LENGTH)
    }
}

/// NFKC normal form (docs/SECURITY.md P7): compatibility characters such as
/// fullwidth letters or ligatures become their plain equivalents, so the
/// same typed password always hashes the same.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn length_limits_at_default() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("abcdefghijk", None),
            Err(PasswordProblem::TooShort { min: 12 })
        );
        assert_eq!(p.check("abcdefghijkl", None), Ok(()));
        assert_eq!(p.check(&"x7".repeat(64), None), Ok(()));
        assert_eq!(p.check(&"x".repeat(200), None), Ok(()));
        assert_eq!(p.check(&"x".repeat(256), None), Ok(()));
        assert_eq!(
            p.check(&"x".repeat(257), None),
            Err(PasswordProblem::TooLong { max: 256 })
        );
    }

    #[test]
    fn length_is_configurable() {
        let p = PasswordPolicy::new(8, 128);
        assert_eq!(p.check("tr0ub4d!", None), Ok(()));
        assert_eq!(
            p.check("tr0ub4d", None),
            Err(PasswordProblem::TooShort { min: 8 })
        );
        assert_eq!(p.check(&"y".repeat(128), None), Ok(()));
        assert_eq!(
            p.check(&"y".repeat(129), None),
            Err(PasswordProblem::TooLong { max: 128 })
        );
    }

    #[test]
    fn length_counts_code_points_not_bytes() {
        let p = PasswordPolicy::default();
        // 12 emoji = 48 bytes, 12 code points.
        let emoji = "😀🔑🐱🌍🎉🚀🍕🎸🌈🔥💡🦀";
        assert_eq!(emoji.chars().count(), 12);
        assert_eq!(p.check(emoji, None), Ok(()));
        assert_eq!(
            p.check(&emoji[..emoji.len() - 4], None),
            Err(PasswordProblem::TooShort { min: 12 })
        );
        // 11 CJK characters = 33 bytes: still too short.
        let cjk = "我的密码非常安全可靠啊";
        assert_eq!(cjk.chars().count(), 11);
        assert_eq!(
            p.check(cjk, None),
            Err(PasswordProblem::TooShort { min: 12 })
        );
        assert_eq!(p.check("我的密码非常安全可靠啊呀", None), Ok(()));
        // 256 emoji (1024 bytes) are within the 256 code point maximum.
        assert_eq!(p.check(&"🦀".repeat(256), None), Ok(()));
    }

    #[test]
    fn length_is_counted_after_nfkc() {
        let p = PasswordPolicy::default();
        // "ﬃ" (one code point) is "ffi" (three) after NFKC: 10 + 3 = 13.
        assert_eq!(p.check("ﬃabcdefghi1", None), Ok(()));
        // Decomposed "é" (e + U+0301) composes to one code point: 15 -> 12
        // is fine, 14 -> 11 is too short.
        let decomposed = "cafe\u{301}cafe\u{301}cafe\u{301}";
        assert_eq!(decomposed.chars().count(), 15);
        assert_eq!(normalize(decomposed).chars().count(), 12);
        assert_eq!(p.check(decomposed, None), Ok(()));
        let short = "cafe\u{301}cafe\u{301}cae\u{301}";
        assert_eq!(
            p.check(short, None),
            Err(PasswordProblem::TooShort { min: 12 })
        );
    }

    #[test]
    fn common_passwords_are_refused() {
        let p = PasswordPolicy::default();
        for pw in [
            "1qaz2wsx3edc",
            "password1234",
            "qwerty123456",
            "123456789qwe",
        ] {
            assert_eq!(p.check(pw, None), Err(PasswordProblem::Common), "{pw}");
        }
        // Case does not help: the list is lowercase and matching ignores case.
        assert_eq!(p.check("1QAZ2WSX3EDC", None), Err(PasswordProblem::Common));
        assert_eq!(p.check("Password1234", None), Err(PasswordProblem::Common));
        // Nor do compatibility forms: fullwidth digits and letters.
        assert_eq!(
            p.check("ｐａｓｓｗｏｒｄ１２３４", None),
            Err(PasswordProblem::Common)
        );
        // A long passphrase is fine.
        assert_eq!(p.check("correct horse battery staple", None), Ok(()));
    }

    #[test]
    fn common_list_covers_the_top_ten_thousand() {
        let p = PasswordPolicy::default();
        assert!(p.common.len() >= 10_000);
        assert!(p.common.contains("123456"));
        assert!(p.common.contains("password"));
        // Entries shorter than the minimum length are refused as too short
        // first; with a lower minimum the list catches them.
        let lax = PasswordPolicy::new(1, 256);
        assert_eq!(lax.check("password", None), Err(PasswordProblem::Common));
        assert_eq!(lax.check("123456", None), Err(PasswordProblem::Common));
    }

    #[test]
    fn the_email_and_its_local_part_are_refused() {
        let p = PasswordPolicy::default();
        let e = email("Jonathan.Smith@Example.com");
        assert_eq!(
            p.check("Jonathan.Smith@example.com", Some(&e)),
            Err(PasswordProblem::SameAsEmail)
        );
        assert_eq!(
            p.check("JONATHAN.SMITH@EXAMPLE.COM", Some(&e)),
            Err(PasswordProblem::SameAsEmail)
        );
        assert_eq!(
            p.check("jonathan.smith", Some(&e)),
            Err(PasswordProblem::SameAsEmail)
        );
        // Something merely containing it is allowed.
        assert_eq!(p.check("jonathan.smith!!", Some(&e)), Ok(()));
        // Without an email nothing is compared.
        assert_eq!(p.check("jonathan.smith", None), Ok(()));
    }

    #[test]
    fn nfkc_normalisation() {
        assert_eq!(normalize("ｐａｓｓｗｏｒｄ"), "password");
        assert_eq!(normalize("ﬁle"), "file");
        assert_eq!(normalize("e\u{301}"), "\u{e9}");
        // Case is preserved.
        assert_eq!(normalize("PassWord"), "PassWord");
    }

    #[test]
    fn messages_read_after_a_field_name() {
        assert_eq!(
            PasswordProblem::TooShort { min: 12 }.to_string(),
            "must be at least 12 characters"
        );
        assert_eq!(
            PasswordProblem::TooLong { max: 256 }.to_string(),
            "must be at most 256 characters"
        );
        assert_eq!(PasswordProblem::Common.to_string(), "is too common");
        assert_eq!(
            PasswordProblem::SameAsEmail.to_string(),
            "must not be your email address"
        );
    }

    proptest! {
        #[test]
        fn check_never_panics(pw in "\\PC{0,300}") {
            let p = PasswordPolicy::new(12, 256);
            let e = email("someone@example.com");
            let _ = p.check(&pw, Some(&e));
            let _ = p.check(&pw, None);
        }

        #[test]
        fn normalize_is_idempotent(pw in "\\PC{0,64}") {
            let once = normalize(&pw);
            prop_assert_eq!(normalize(&once), once);
        }

        #[test]
        fn length_decision_matches_code_point_count(pw in "[a-zA-Z0-9😀中é]{0,40}") {
            let p = PasswordPolicy::new(12, 30);
            let n = normalize(&pw).chars().count();
            match p.check(&pw, None) {
                Err(PasswordProblem::TooShort { .. }) => prop_assert!(n < 12),
                Err(PasswordProblem::TooLong { .. }) => prop_assert!(n > 30),
                _ => prop_assert!((12..=30).contains(&n)),
            }
        }
    }
}
