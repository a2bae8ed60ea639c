//! Recovery codes: ten a set, each `xxxxx-xxxxx` from Crockford's base32
//! alphabet in lower case (50 random bits), shown once; only their SHA-256
//! (hex) is stored. A code works once (`Store::use_recovery_code` is one
//! conditional `UPDATE`); a new set replaces the old one.

use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use super::totp::RecoveryCodes;
use super::{Authenticated, RequestMeta};
use crate::app::AppState;
use crate::error::ApiError;

/// Codes in a set.
pub const SET_SIZE: usize = 10;
/// Crockford's base32 (no i, l, o, u): 32 symbols, 5 bits each.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Symbols in a code (50 bits), written as two groups of five.
const LEN: usize = 10;

/// A new set: the codes to show, and the hashes to store.
pub fn new_set() -> Result<(Vec<String>, Vec<String>), ApiError> {
    let rng = SystemRandom::new();
    let mut codes = Vec::with_capacity(SET_SIZE);
    let mut hashes = Vec::with_capacity(SET_SIZE);
    while codes.len() < SET_SIZE {
        let mut bytes = [0u8; LEN];
        rng.fill(&mut bytes)
            .map_err(|_| ApiError::Internal("the random number generator failed".to_owned()))?;
        // 256 is a multiple of 32: the low five bits are uniform.
        let symbols: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect();
        let hash = hash(&symbols);
        if hashes.contains(&hash) {
            continue;
        }
        codes.push(format!("{}-{}", &symbols[..5], &symbols[5..]));
        hashes.push(hash);
    }
    Ok((codes, hashes))
}

/// The ten symbols of a code as typed: case, spaces and dashes do not
/// matter, and Crockford's look-alikes (`o` for 0, `i`/`l` for 1) are read
/// as what they look like. `None` for anything else.
fn normalise(input: &str) -> Option<String> {
    let mut out = String::with_capacity(LEN);
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            ' ' | '-' | '\t' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == LEN).then_some(out)
}

/// SHA-256 of the normalised symbols, lower-case hex.
fn hash(symbols: &str) -> String {
    digest(&SHA256, symbols.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Uses one of the user's recovery codes: `Ok(true)` once per code.
pub async fn redeem(state: &AppState, user_id: &str, code: &str) -> Result<bool, ApiError> {
    let Some(symbols) = normalise(code) else {
        return Ok(false);
    };
    let now = state.now();
    let event = RequestMeta::default().event(now, "recovery_code.used", Some(user_id), json!({}));
    Ok(state
        .store
        .use_recovery_code(user_id, hash(&symbols), now, event)
        .await?)
}

/// A new set for the signed-in user (`POST /v1/users/me/recovery-codes`,
/// after the (R) guard); the old set dies. 409 `conflict` without a second
/// factor (TOTP or a passkey).
pub async fn regenerate(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<RecoveryCodes, ApiError> {
    let (codes, hashes) = new_set()?;
    let now = state.now();
    let event = meta.event(
        now,
        "recovery_codes.generated",
        Some(&who.user.id),
        json!({ "count": codes.len() }),
    );
    if !state
        .store
        .replace_recovery_codes(&who.user.id, hashes, now, event)
        .await?
    {
        return Err(ApiError::Conflict(
            "recovery codes need a second factor: enrol TOTP or a passkey first".to_owned(),
        ));
    }
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_distinct_well_formed_codes() {
        let (codes, hashes) = new_set().unwrap();
        assert_eq!(codes.len(), 10);
        for (code, h) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(&code[5..6], "-");
            assert_eq!(hash(&normalise(code).unwrap()), *h);
        }
        let mut unique = hashes.clone();
        unique.dedup();
        assert_eq!(unique.len(), 10);
    }

    #[test]
    fn input_is_normalised() {
        let want = normalise("ab1c0-defgh").unwrap();
        for typed in [
            "AB1C0-DEFGH",
            "ab1c0defgh",
            " ab1c0 defgh ",
            "abLcO-defgh",
            "abic0defgh",
        ] {
            assert_eq!(
                normalise(typed).as_deref(),
                Some(want.as_str()),
                "{typed:?}"
            );
        }
        for junk in [
            "",
            "ab1c0-defg",
            "ab1c0-defghj",
            "ab1c0-defgu",
            "ab1c0-defgé",
        ] {
            assert_eq!(normalise(junk), None, "{junk:?}");
        }
    }
}
