//! When a rotated key is published, when it is used, and when the old one
//! is forgotten: one rule for the JWT signing keys and the RSA keys.
//!
//! Several instances may share one database, and each rereads the keys
//! every `jwt.key_reload`. A key added by `toktok keys rotate` is therefore
//! *published* first (in the JWKS, or as a decryption key) and *used* (to
//! sign, or served as the key clients encrypt to) only once it is
//! [`publish_delay`] old. By then every instance has reloaded at least once
//! and accepts what the new key produces, and so do the services that
//! verify through the JWKS with the common libraries, whose caches refetch
//! an unknown `kid` at most every 30 s whatever `Cache-Control` says
//! (`jose`, PyJWT). The old key is kept, published, for as long
//! as anything it produced can still be presented, plus that delay, because
//! an instance that has not reloaded yet still uses it.
//!
//! The functions here only decide; `crate::app` and `crate::auth::jwe` load
//! the rows, apply the decision to the database and build the keyrings.

use std::time::Duration;

use crate::store::{KeyRow, RsaKeyRow};

/// What the decision needs of a key row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTimes {
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl From<&KeyRow> for KeyTimes {
    fn from(row: &KeyRow) -> Self {
        KeyTimes {
            created_at: row.created_at,
            retired_at: row.retired_at,
        }
    }
}

impl From<&RsaKeyRow> for KeyTimes {
    fn from(row: &RsaKeyRow) -> Self {
        KeyTimes {
            created_at: row.created_at,
            retired_at: row.retired_at,
        }
    }
}

/// How long a verifier may cache the JWKS (its `Cache-Control: max-age`,
/// seconds): one reload period, after which it may hold an old key set.
pub fn jwks_max_age(key_reload: Duration) -> u64 {
    key_reload.as_secs()
}

/// How long a JWKS client that has just fetched the key set waits before it
/// fetches again for an unknown `kid`: 30 s in `jose` (`cooldownDuration`)
/// and in PyJWT's `PyJWKClient`, which both ignore `Cache-Control`.
pub const VERIFIER_COOLDOWN: i64 = 30;

/// How long a new key is published before it is used (seconds), the longer
/// of:
/// - twice the reload period: every instance has reloaded at least once
///   even if its timer fired just before the key was added, and a verifier
///   honouring the JWKS `max-age` (one period) has refetched it;
/// - the JWKS `max-age` plus [`VERIFIER_COOLDOWN`]: a verifier that fetched
///   the key set just before the key was published may refetch before the
///   key signs, however short `key_reload` is;
///
/// plus [`SLACK`] seconds. 125 s at the default 60 s, 36 s at 1 s.
pub fn publish_delay(key_reload: Duration) -> i64 {
    let reload = i64::try_from(key_reload.as_secs()).unwrap_or(i64::MAX / 4);
    let max_age = i64::try_from(jwks_max_age(key_reload)).unwrap_or(i64::MAX / 4);
    (2 * reload).max(max_age + VERIFIER_COOLDOWN) + SLACK
}

/// Seconds added to the publish delay: key times are whole seconds (a key
/// stored at 10.9 s reads as 10 s), a reload takes time of its own, and
/// timers fire late on a busy machine.
pub const SLACK: i64 = 5;

/// The signing keys of one algorithm, decided.
#[derive(Debug, PartialEq, Eq)]
pub struct SigningPlan {
    /// Index of the key that signs.
    pub active: usize,
    /// The keys that verify besides it, in row order: keys still waiting to
    /// be used, and older keys whose tokens may still be alive.
    pub verify_only: Vec<usize>,
    /// Older keys to mark retired now (not yet marked).
    pub retire: Vec<usize>,
    /// Keys retired before `forget_before` (never the active one): nothing
    /// they signed can still be presented, so their rows can go.
    pub forget: Vec<usize>,
    pub forget_before: i64,
}

/// Decides which of `rows` (newest first; at least one) signs at `now`.
///
/// The newest key at least `delay` old signs. When every key is newer (the
/// first start, or a clock set back), the oldest signs: there is nothing
/// older to wait with. `lifetime` is the longest a token lives.
pub fn signing_plan(rows: &[KeyTimes], now: i64, delay: i64, lifetime: i64) -> SigningPlan {
    assert!(!rows.is_empty(), "signing_plan needs a key");
    let published_before = now.saturating_sub(delay);
    let active = rows
        .iter()
        .position(|row| row.created_at <= published_before)
        .unwrap_or(rows.len() - 1);
    let forget_before = now.saturating_sub(lifetime).saturating_sub(delay);
    let live = |row: &KeyTimes| row.retired_at.is_none_or(|at| at >= forget_before);
    SigningPlan {
        active,
        verify_only: (0..rows.len())
            .filter(|&i| i != active && live(&rows[i]))
            .collect(),
        retire: (active + 1..rows.len())
            .filter(|&i| rows[i].retired_at.is_none())
            .collect(),
        forget: (0..rows.len())
            .filter(|&i| i != active && !live(&rows[i]))
            .collect(),
        forget_before,
    }
}

/// The RSA keys, decided.
#[derive(Debug, PartialEq, Eq)]
pub struct RsaPlan {
    /// Index of the key served at `GET /v1/auth/public-key`, which clients
    /// encrypt to.
    pub served: usize,
    /// The other keys that still decrypt, in row order.
    pub decrypt_only: Vec<usize>,
    /// Rows after the first not yet marked retired (two rotations that
    /// raced, or an old database).
    pub retire: Vec<usize>,
    /// Keys retired before `forget_before` (never the served or the
    /// current one): their rows can go.
    pub forget: Vec<usize>,
    pub forget_before: i64,
}

/// Decides which RSA key is served at `now`. `rows` come unretired first,
/// then newest first; the first row is the current key (`toktok keys rotate
/// --rsa` retires the others in the same transaction). The served key is
/// the newest live key at least `delay` old, like the signing key, so no
/// client encrypts to a key another instance cannot open yet; when none is
/// that old (the first start), the oldest live key. Retired keys decrypt
/// for `grace` (plus the delay during which one may still be served).
pub fn rsa_plan(rows: &[KeyTimes], now: i64, delay: i64, grace: i64) -> RsaPlan {
    assert!(!rows.is_empty(), "rsa_plan needs a key");
    let forget_before = now.saturating_sub(grace).saturating_sub(delay);
    let live = |i: usize| i == 0 || rows[i].retired_at.is_none_or(|at| at >= forget_before);
    let published_before = now.saturating_sub(delay);
    let candidates = || (0..rows.len()).filter(|&i| live(i));
    let served = candidates()
        .filter(|&i| rows[i].created_at <= published_before)
        .max_by_key(|&i| (rows[i].created_at, std::cmp::Reverse(i)))
        // Rows of one second are in row order, newest first.
        .or_else(|| candidates().min_by_key(|&i| (rows[i].created_at, std::cmp::Reverse(i))))
        .unwrap_or(0);
    RsaPlan {
        served,
        decrypt_only: candidates().filter(|&i| i != served).collect(),
        retire: (1..rows.len())
            .filter(|&i| rows[i].retired_at.is_none())
            .collect(),
        forget: (1..rows.len())
            .filter(|&i| i != served && !live(i))
            .collect(),
        forget_before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: i64 = 120;
    const LIFETIME: i64 = 1000;

    fn key(created_at: i64, retired_at: Option<i64>) -> KeyTimes {
        KeyTimes {
            created_at,
            retired_at,
        }
    }

    #[test]
    fn the_delay_is_twice_the_reload_period_and_some_slack() {
        assert_eq!(publish_delay(Duration::from_secs(60)), 125);
        assert_eq!(publish_delay(Duration::from_secs(3600)), 7205);
    }

    #[test]
    fn the_delay_outlasts_the_jwks_max_age_and_the_verifiers_cooldown() {
        // Issue 16: with key_reload = 5 s, jose and PyJWT refused new-key
        // tokens for ~10 s (they refetch an unknown kid every 30 s at most).
        for secs in [1, 2, 5, 10, 25, 30, 35, 60, 600, 3600] {
            let reload = Duration::from_secs(secs);
            let delay = publish_delay(reload);
            let floor = jwks_max_age(reload) as i64 + VERIFIER_COOLDOWN;
            assert!(delay >= floor + SLACK, "{secs}s: {delay} < {floor} + slack");
            assert!(delay >= 2 * secs as i64 + SLACK, "{secs}s: {delay}");
        }
        assert_eq!(publish_delay(Duration::from_secs(1)), 36);
        assert_eq!(publish_delay(Duration::from_secs(5)), 40);
    }

    #[test]
    fn a_first_key_signs_at_once() {
        let plan = signing_plan(&[key(1000, None)], 1000, DELAY, LIFETIME);
        assert_eq!(plan.active, 0);
        assert!(plan.verify_only.is_empty() && plan.retire.is_empty());
        assert!(plan.forget.is_empty());
    }

    #[test]
    fn a_new_key_is_published_first_and_signs_after_the_delay() {
        // Rows newest first: the rotated-in key, then the one signing now.
        let rows = [key(5000, None), key(1000, None)];
        let waiting = signing_plan(&rows, 5000 + DELAY - 1, DELAY, LIFETIME);
        assert_eq!(waiting.active, 1, "the old key still signs");
        assert_eq!(waiting.verify_only, [0], "the new key already verifies");
        assert!(waiting.retire.is_empty(), "nothing is retired yet");

        let used = signing_plan(&rows, 5000 + DELAY, DELAY, LIFETIME);
        assert_eq!(used.active, 0);
        assert_eq!(used.verify_only, [1]);
        assert_eq!(used.retire, [1]);
    }

    #[test]
    fn a_retired_key_verifies_for_a_token_lifetime_plus_the_delay() {
        let rows = [key(5000, None), key(1000, Some(5120))];
        let kept = signing_plan(&rows, 5120 + LIFETIME + DELAY, DELAY, LIFETIME);
        assert_eq!(kept.verify_only, [1]);
        assert!(kept.forget.is_empty());
        let gone = signing_plan(&rows, 5121 + LIFETIME + DELAY, DELAY, LIFETIME);
        assert!(gone.verify_only.is_empty());
        assert_eq!(gone.forget, [1]);
        assert_eq!(gone.forget_before, 5121);
    }

    #[test]
    fn when_every_key_is_new_the_oldest_signs() {
        // Two rotations within one delay: neither new key signs before its
        // time, so the key from before them keeps signing.
        let rows = [key(5050, None), key(5000, None), key(1000, None)];
        let plan = signing_plan(&rows, 5060, DELAY, LIFETIME);
        assert_eq!(plan.active, 2);
        assert_eq!(plan.verify_only, [0, 1]);
        let first_start = [key(5050, None), key(5000, None)];
        assert_eq!(signing_plan(&first_start, 5060, DELAY, LIFETIME).active, 1);
    }

    #[test]
    fn keys_past_the_delay_retire_every_older_one() {
        let rows = [key(5000, None), key(3000, None), key(1000, Some(3120))];
        let plan = signing_plan(&rows, 6000, DELAY, LIFETIME);
        assert_eq!(plan.active, 0);
        assert_eq!(plan.retire, [1], "only rows not yet retired");
        assert_eq!(plan.verify_only, [1], "the 1000 key is past its lifetime");
        assert_eq!(plan.forget, [2]);
    }

    #[test]
    fn an_rsa_key_is_served_only_once_every_instance_decrypts_with_it() {
        // `keys rotate --rsa` at 5000: the new key first, the old retired.
        let rows = [key(5000, None), key(1000, Some(5000))];
        let waiting = rsa_plan(&rows, 5000 + DELAY - 1, DELAY, LIFETIME);
        assert_eq!(waiting.served, 1);
        assert_eq!(waiting.decrypt_only, [0]);
        assert!(waiting.retire.is_empty());
        let served = rsa_plan(&rows, 5000 + DELAY, DELAY, LIFETIME);
        assert_eq!(served.served, 0);
        assert_eq!(served.decrypt_only, [1]);
        // The old key decrypts for the grace period plus the delay.
        let late = rsa_plan(&rows, 5000 + LIFETIME + DELAY + 1, DELAY, LIFETIME);
        assert!(late.decrypt_only.is_empty());
        assert_eq!(late.forget, [1]);
    }

    #[test]
    fn a_first_rsa_key_is_served_at_once_and_strays_are_retired() {
        let first = rsa_plan(&[key(1000, None)], 1000, DELAY, LIFETIME);
        assert_eq!(first.served, 0);
        assert!(first.decrypt_only.is_empty());
        // Two unretired rows (an old database): the first is current.
        let stray = rsa_plan(&[key(3000, None), key(1000, None)], 4000, DELAY, LIFETIME);
        assert_eq!(stray.served, 0);
        assert_eq!(stray.decrypt_only, [1]);
        assert_eq!(stray.retire, [1]);
    }

    #[test]
    fn two_rsa_rotations_within_one_delay_serve_no_young_key() {
        // k2 at 5000 and k3 at 5050: at 5051 k2 is only 51 s old, so k1,
        // from before both, is still served; k2 is served from 5120, k3
        // from 5170.
        let rows = [
            key(5050, None),
            key(5000, Some(5050)),
            key(1000, Some(5000)),
        ];
        assert_eq!(rsa_plan(&rows, 5051, DELAY, LIFETIME).served, 2);
        assert_eq!(rsa_plan(&rows, 5000 + DELAY, DELAY, LIFETIME).served, 1);
        assert_eq!(rsa_plan(&rows, 5050 + DELAY, DELAY, LIFETIME).served, 0);
        // Two rotations that raced leave two unretired keys: the same rule.
        let raced = [key(5001, None), key(5000, None), key(1000, Some(5000))];
        let plan = rsa_plan(&raced, 5010, DELAY, LIFETIME);
        assert_eq!(plan.served, 2);
        assert_eq!(plan.retire, [1]);
        // A rotation in the same second as the first key: the first key
        // (later in row order) is the older one, and stays served.
        let same_second = [key(1000, None), key(1000, Some(1000))];
        assert_eq!(rsa_plan(&same_second, 1000, DELAY, LIFETIME).served, 1);
    }
}
