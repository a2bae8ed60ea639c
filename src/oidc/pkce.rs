//! PKCE (RFC 7636), `S256` only: the verifier's SHA-256, base64url without
//! padding, must equal the challenge sent to the authorization endpoint.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// A verifier: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
pub fn is_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge: exactly the 43 base64url characters of a SHA-256.
pub fn is_challenge(text: &str) -> bool {
    text.len() == 43 && URL_SAFE_NO_PAD.decode(text).is_ok_and(|b| b.len() == 32)
}

/// The challenge of `verifier`.
pub fn challenge_of(verifier: &str) -> String {
    crate::domain::digest::sha256_b64url(verifier)
}

/// Whether `verifier` answers `challenge`. A plain comparison: the
/// challenge travelled through the browser, so it is no secret to time.
pub fn verifies(verifier: &str, challenge: &str) -> bool {
    is_verifier(verifier) && challenge_of(verifier) == challenge
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            challenge_of(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(verifies(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(is_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn wrong_short_long_and_plain_verifiers_fail() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = challenge_of(verifier);
        assert!(!verifies(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
            &challenge
        ));
        assert!(!verifies("short", &challenge_of("short")));
        assert!(!verifies(&"a".repeat(129), &challenge_of(&"a".repeat(129))));
        assert!(!verifies(
            &"a b".repeat(20),
            &challenge_of(&"a b".repeat(20))
        ));
        // `plain`: the challenge is the verifier itself; never accepted.
        assert!(!verifies(verifier, verifier));
        assert!(!is_challenge(verifier.get(..42).unwrap()));
        assert!(!is_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c!"));
    }
}
