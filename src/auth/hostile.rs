//! Strategies shared by the hostile-input property tests (issue 9;
//! docs/SECURITY.md D6) of the JWS (`jwt`), JWE (`jwe`) and challenge-token
//! (`crate::challenge`) parsers: a fixed budget per property, damage done
//! to a token, and arbitrary JSON. The cargo-fuzz targets in `fuzz/` cover
//! the same parsers coverage-guided, for longer, on nightly.
//!
//! The budget per property is `PROPTEST_CASES` when set (a long local run:
//! `PROPTEST_CASES=20000 cargo test --lib hostile`), else the small default
//! each test names.

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use serde_json::{json, Value};

pub(crate) fn budget(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn runner(default: u32) -> TestRunner {
    TestRunner::new(PropConfig {
        cases: budget(default),
        failure_persistence: None,
        ..PropConfig::default()
    })
}

/// How a token is damaged: a flipped byte, one deleted, one inserted, or a
/// cut.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Flip(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, m)| Mutation::Flip(i, m)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

pub(crate) fn mutate(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match m {
        Mutation::Flip(i, mask) => {
            let i = i.index(out.len());
            out[i] ^= mask;
        }
        Mutation::Delete(i) => {
            out.remove(i.index(out.len()));
        }
        Mutation::Insert(i, b) => out.insert(i.index(out.len() + 1), *b),
        Mutation::Truncate(i) => out.truncate(i.index(out.len())),
    }
    out
}

/// Arbitrary JSON, a few levels deep, biased towards the claim names and
/// times around `now`.
pub(crate) fn json_value(now: i64) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (now - 1000..now + 1000).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "access",
            "refresh",
            "anonymous",
            "toktok",
            "none",
            "HS256"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "iss", "aud", "sub", "exp", "iat", "nbf", "jti", "sid", "typ", "alg",
                        "kid", "role", "crit", "jku", "x",
                    ]),
                    inner
                ),
                0..8
            )
            .prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}
