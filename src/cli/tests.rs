use super::init::random_secret;
use super::user::cli_error;

#[test]
fn init_hs256_secrets_are_random_enough_for_the_entropy_check() {
    // TT-13: the warning must never fire on what `init --hs256` writes.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..500 {
        let secret = random_secret().unwrap();
        assert_eq!(secret.len(), 64, "48 bytes, base64url");
        assert_eq!(crate::config::weak_secret(&secret), None, "{secret}");
        assert!(seen.insert(secret), "a fresh secret each time");
    }
}

#[test]
fn a_validation_error_names_the_flag_and_the_reason() {
    use crate::error::{ApiError, FieldError};
    let e = cli_error(ApiError::Validation(vec![
        FieldError::new("email", "is not a valid email address"),
        FieldError::new("app_metadata", "must be a JSON object"),
    ]));
    assert_eq!(
        e.to_string(),
        "--email: is not a valid email address; --app-metadata: must be a JSON object"
    );
}
