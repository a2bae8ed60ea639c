//! Requests as they arrive, and their validation into checked values.
//!
//! [`CreateParams`] and [`LookupParams`] are the JSON bodies, taken as sent:
//! the polymorphic fields are `serde_json::Value`, so that every wrong input
//! gets a message from here naming the field (422), not a serde error.
//! [`CreateParams::validate`] turns a body into a [`NewChallenge`], whose
//! parts ([`Action`], [`ChallengeId`], [`SecretSpec`]) can only hold valid
//! values (STYLE 11: parse, don't validate).

use serde::Deserialize;
use serde_json::Value;

use super::secret::{distinct_chars, SecretKind, SecretSpec, MAX_LENGTH};
use super::{Control, Lookup, VerifyOptions};
use crate::error::FieldError;

/// Longest `action` or `id`, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Largest `metadata`, serialised.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Longest `alphabet`, in bytes (a bound on the row, not a rule of docs/API.md).
pub const MAX_ALPHABET_BYTES: usize = 4096;
/// Longest `ttl`: it must fit `now + ttl` in the database with room to spare.
pub const MAX_TTL: u64 = u32::MAX as u64;

fn check_name(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("must not be empty")
    } else if value.len() > MAX_NAME_BYTES {
        Err("must be at most 256 bytes")
    } else if value.contains('\0') {
        // NUL separates action, id and secret in the stored hash.
        Err("must not contain NUL characters")
    } else {
        Ok(())
    }
}

/// What a challenge is for, e.g. `verify-email`: non-empty, ≤ 256 bytes, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Action(String);

impl Action {
    #[cfg(any(test, feature = "testing"))]
    pub fn parse(value: impl Into<String>) -> Result<Action, &'static str> {
        let value = value.into();
        check_name(&value)?;
        Ok(Action(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whom or what a challenge is about, e.g. an email address: non-empty,
/// ≤ 256 bytes, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChallengeId(String);

impl ChallengeId {
    #[cfg(any(test, feature = "testing"))]
    pub fn parse(value: impl Into<String>) -> Result<ChallengeId, &'static str> {
        let value = value.into();
        check_name(&value)?;
        Ok(ChallengeId(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The body of `POST /v1/challenges`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateParams {
    #[serde(default)]
    pub action: Option<Value>,
    #[serde(default)]
    pub id: Option<Value>,
    /// Seconds; 0 or absent: never expires.
    #[serde(default)]
    pub ttl: Option<Value>,
    /// `true` (= ttl) or seconds ≤ ttl; anything else, `false` included, is
    /// refused (docs/API.md).
    #[serde(default)]
    pub throttle: Option<Value>,
    #[serde(default)]
    pub metadata: Option<Value>,
    /// `true`, `false` or `{type, alphabet?, length?, encrypt?}`.
    #[serde(default)]
    pub secret: Option<Value>,
    #[serde(default)]
    pub regenerate: Option<Value>,
}

impl CreateParams {
    /// A body with just `action` and `id` (defaults for the rest).
    pub fn new(action: &str, id: &str) -> CreateParams {
        CreateParams {
            action: Some(Value::from(action)),
            id: Some(Value::from(id)),
            ..CreateParams::default()
        }
    }

    /// Checks every field, reporting all problems at once.
    pub fn validate(self) -> Result<NewChallenge, Vec<FieldError>> {
        let mut errors = Vec::new();
        let action = required_name("action", self.action.as_ref(), &mut errors).map(Action);
        let id = required_name("id", self.id.as_ref(), &mut errors).map(ChallengeId);
        let ttl = match seconds("ttl", self.ttl.as_ref()) {
            Ok(ttl) => Some(ttl),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let throttle = match throttle(self.throttle.as_ref(), ttl) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                0
            }
        };
        let secret = match secret(self.secret.as_ref()) {
            Ok(s) => s,
            Err(mut e) => {
                errors.append(&mut e);
                None
            }
        };
        let regenerate = match self.regenerate {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => {
                errors.push(FieldError::new("regenerate", "must be a boolean"));
                false
            }
        };
        // `secret: false` (not an invalid secret) rules out regenerate.
        if regenerate && matches!(self.secret, Some(Value::Bool(false))) {
            errors.push(FieldError::new(
                "regenerate",
                "needs a secret: it cannot be true with \"secret\": false",
            ));
        }
        let metadata = self.metadata.unwrap_or(Value::Null);
        if metadata.to_string().len() > MAX_METADATA_BYTES {
            errors.push(FieldError::new(
                "metadata",
                "must be at most 16 KiB when serialised as JSON",
            ));
        }
        match (action, id, ttl) {
            (Some(action), Some(id), Some(ttl)) if errors.is_empty() => Ok(NewChallenge {
                action,
                id,
                ttl,
                throttle,
                metadata,
                secret,
                regenerate,
            }),
            _ => Err(errors),
        }
    }
}

/// A valid request for a new challenge.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChallenge {
    pub(crate) action: Action,
    pub(crate) id: ChallengeId,
    /// Seconds, 0 = never expires.
    pub(crate) ttl: u32,
    /// Seconds, ≤ ttl.
    pub(crate) throttle: u32,
    pub(crate) metadata: Value,
    pub(crate) secret: Option<SecretSpec>,
    pub(crate) regenerate: bool,
}

impl NewChallenge {
    #[cfg(any(test, feature = "testing"))]
    pub fn action(&self) -> &Action {
        &self.action
    }
    #[cfg(any(test, feature = "testing"))]
    pub fn id(&self) -> &ChallengeId {
        &self.id
    }
    #[cfg(any(test, feature = "testing"))]
    pub fn ttl(&self) -> u32 {
        self.ttl
    }
    #[cfg(any(test, feature = "testing"))]
    pub fn throttle(&self) -> u32 {
        self.throttle
    }
    #[cfg(any(test, feature = "testing"))]
    pub fn secret(&self) -> Option<&SecretSpec> {
        self.secret.as_ref()
    }
    #[cfg(any(test, feature = "testing"))]
    pub fn regenerate(&self) -> bool {
        self.regenerate
    }
}

fn required_name(
    field: &str,
    value: Option<&Value>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match value {
        None => errors.push(FieldError::new(field, "is required")),
        Some(Value::String(s)) => match check_name(s) {
            Ok(()) => return Some(s.clone()),
            Err(m) => errors.push(FieldError::new(field, m)),
        },
        Some(_) => errors.push(FieldError::new(field, "must be a string")),
    }
    None
}

/// A whole number of seconds ≥ 0 (`3.0` counts as whole); absent = 0.
fn seconds(field: &str, value: Option<&Value>) -> Result<u32, FieldError> {
    let Some(value) = value else { return Ok(0) };
    let Value::Number(n) = value else {
        return Err(FieldError::new(field, "must be a number of seconds"));
    };
    let whole = if let Some(u) = n.as_u64() {
        u
    } else if n.as_i64().is_some_and(|i| i < 0) {
        return Err(FieldError::new(field, "must not be negative"));
    } else {
        match n.as_f64() {
            Some(f) if f < 0.0 => return Err(FieldError::new(field, "must not be negative")),
            Some(f) if f.fract() == 0.0 && f <= MAX_TTL as f64 => f as u64,
            Some(f) if f.fract() == 0.0 => u64::MAX,
            _ => return Err(FieldError::new(field, "must be a whole number of seconds")),
        }
    };
    u32::try_from(whole)
        .map_err(|_| FieldError::new(field, format!("must be at most {MAX_TTL} seconds")))
}

fn throttle(value: Option<&Value>, ttl: Option<u32>) -> Result<u32, FieldError> {
    let seconds_given = match value {
        None => return Ok(0),
        Some(Value::Bool(true)) => {
            return match ttl {
                Some(0) => Err(FieldError::new(
                    "throttle",
                    "true means \"as long as ttl\" and needs a ttl above 0",
                )),
                Some(ttl) => Ok(ttl),
                // ttl is invalid and reported on its own.
                None => Ok(0),
            };
        }
        Some(v @ Value::Number(_)) => seconds("throttle", Some(v))?,
        Some(_) => {
            return Err(FieldError::new(
                "throttle",
                "must be true or a number of seconds (0 for none)",
            ))
        }
    };
    match ttl {
        Some(ttl) if seconds_given > ttl => Err(FieldError::new(
            "throttle",
            format!("must not exceed ttl ({ttl} s)"),
        )),
        _ => Ok(seconds_given),
    }
}

/// `secret`: absent or `true` = uuid, encrypted; `false` = none; or an
/// object. Errors name `secret` or `secret.<key>`.
fn secret(value: Option<&Value>) -> Result<Option<SecretSpec>, Vec<FieldError>> {
    let object = match value {
        None | Some(Value::Bool(true)) => {
            return Ok(Some(SecretSpec {
                kind: SecretKind::Uuid,
                encrypt: true,
            }))
        }
        Some(Value::Bool(false)) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(vec![FieldError::new(
                "secret",
                "must be true, false or an object {type, alphabet?, length?, encrypt?}",
            )])
        }
    };
    let mut errors = Vec::new();
    for key in object.keys() {
        if !matches!(key.as_str(), "type" | "alphabet" | "length" | "encrypt") {
            errors.push(FieldError::new(format!("secret.{key}"), "unknown field"));
        }
    }
    let encrypt = match object.get("encrypt") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new("secret.encrypt", "must be a boolean"));
            None
        }
    };
    let length = |errors: &mut Vec<FieldError>| -> Option<u16> {
        match object.get("length") {
            None => {
                errors.push(FieldError::new(
                    "secret.length",
                    "is required for this type",
                ));
                None
            }
            Some(Value::Number(n)) => match n.as_u64() {
                Some(0) => {
                    errors.push(FieldError::new("secret.length", "must be at least 1"));
                    None
                }
                Some(l) if l <= u64::from(MAX_LENGTH) => u16::try_from(l).ok(),
                Some(_) => {
                    errors.push(FieldError::new("secret.length", "must be at most 256"));
                    None
                }
                None => {
                    errors.push(FieldError::new(
                        "secret.length",
                        "must be a whole number from 1 to 256",
                    ));
                    None
                }
            },
            Some(_) => {
                errors.push(FieldError::new("secret.length", "must be a number"));
                None
            }
        }
    };
    let kind = match object.get("type") {
        None => {
            errors.push(FieldError::new("secret.type", "is required"));
            None
        }
        Some(Value::String(t)) if t == "uuid" => {
            for key in ["alphabet", "length"] {
                if object.contains_key(key) {
                    errors.push(FieldError::new(
                        format!("secret.{key}"),
                        "is not allowed for type uuid",
                    ));
                }
            }
            Some(SecretKind::Uuid)
        }
        Some(Value::String(t)) if t == "number" => {
            if object.contains_key("alphabet") {
                errors.push(FieldError::new(
                    "secret.alphabet",
                    "is only allowed for type alphabet",
                ));
            }
            length(&mut errors).map(|length| SecretKind::Number { length })
        }
        Some(Value::String(t)) if t == "alphabet" => {
            let alphabet = match object.get("alphabet") {
                None => {
                    errors.push(FieldError::new(
                        "secret.alphabet",
                        "is required for type alphabet",
                    ));
                    None
                }
                Some(Value::String(a)) if a.len() > MAX_ALPHABET_BYTES => {
                    errors.push(FieldError::new(
                        "secret.alphabet",
                        format!("must be at most {MAX_ALPHABET_BYTES} bytes"),
                    ));
                    None
                }
                Some(Value::String(a)) if distinct_chars(a).len() < 2 => {
                    errors.push(FieldError::new(
                        "secret.alphabet",
                        "must have at least 2 distinct characters",
                    ));
                    None
                }
                Some(Value::String(a)) => Some(a.clone()),
                Some(_) => {
                    errors.push(FieldError::new("secret.alphabet", "must be a string"));
                    None
                }
            };
            let length = length(&mut errors);
            match (alphabet, length) {
                (Some(alphabet), Some(length)) => Some(SecretKind::Alphabet { alphabet, length }),
                _ => None,
            }
        }
        Some(_) => {
            errors.push(FieldError::new(
                "secret.type",
                "must be one of \"uuid\", \"alphabet\", \"number\"",
            ));
            None
        }
    };
    match kind {
        Some(kind) if errors.is_empty() => {
            let encrypt = encrypt.unwrap_or(kind == SecretKind::Uuid);
            Ok(Some(SecretSpec { kind, encrypt }))
        }
        _ => Err(errors),
    }
}

/// The body of verify / info / regenerate / remove, as sent.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    /// verify only: delete on success (default true).
    #[serde(default)]
    pub erase: Option<bool>,
    /// verify only: write an audit event.
    #[serde(default)]
    pub log: Option<bool>,
    /// verify only: values the challenge must have.
    #[serde(default)]
    pub control: Option<ControlParams>,
}

impl std::fmt::Debug for LookupParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("LookupParams")
            .field("uid", &self.uid)
            .field("action", &self.action)
            .field("id", &self.id)
            .field("token", &hidden(&self.token))
            .field("secret", &hidden(&self.secret))
            .field("erase", &self.erase)
            .field("log", &self.log)
            .field("control", &self.control)
            .finish()
    }
}

/// `control` of a verify body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlParams {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
}

impl LookupParams {
    /// Which challenge the body names: `{uid}`, `{action, id}`, `{token}` or
    /// `{action, id, secret}`; any other combination names the odd field.
    /// A token is not checked here: an unreadable one is `MalformedToken`
    /// (400), not a validation error.
    pub fn lookup(&self) -> Result<Lookup, Vec<FieldError>> {
        let mut errors = Vec::new();
        let given = |name: &'static str, v: &Option<String>| v.as_ref().map(|_| name);
        if let Some(token) = &self.token {
            for extra in [
                given("uid", &self.uid),
                given("action", &self.action),
                given("id", &self.id),
                given("secret", &self.secret),
            ]
            .into_iter()
            .flatten()
            {
                errors.push(FieldError::new(extra, "is not allowed together with token"));
            }
            return if errors.is_empty() {
                Ok(Lookup::Token(token.clone()))
            } else {
                Err(errors)
            };
        }
        if let Some(uid) = &self.uid {
            for extra in [
                given("action", &self.action),
                given("id", &self.id),
                given("secret", &self.secret),
            ]
            .into_iter()
            .flatten()
            {
                errors.push(FieldError::new(extra, "is not allowed together with uid"));
            }
            if uid.is_empty() || uid.len() > MAX_NAME_BYTES {
                errors.push(FieldError::new("uid", "must be 1 to 256 bytes"));
            }
            return if errors.is_empty() {
                Ok(Lookup::Uid(uid.clone()))
            } else {
                Err(errors)
            };
        }
        if self.action.is_none() && self.id.is_none() && self.secret.is_none() {
            return Err(vec![FieldError::new(
                "action",
                "is required: give uid, token, or action and id",
            )]);
        }
        for (field, value) in [("action", &self.action), ("id", &self.id)] {
            match value {
                None => errors.push(FieldError::new(field, "is required")),
                Some(v) => {
                    if let Err(m) = check_name(v) {
                        errors.push(FieldError::new(field, m));
                    }
                }
            }
        }
        if self.secret.as_ref().is_some_and(|s| s.is_empty()) {
            errors.push(FieldError::new("secret", "must not be empty"));
        }
        match (&self.action, &self.id, &self.secret) {
            (Some(action), Some(id), secret) if errors.is_empty() => Ok(match secret {
                None => Lookup::Pair {
                    action: action.clone(),
                    id: id.clone(),
                },
                Some(secret) => Lookup::Secret {
                    action: action.clone(),
                    id: id.clone(),
                    secret: secret.clone(),
                },
            }),
            _ => Err(errors),
        }
    }

    /// The verify options, with their defaults (erase: true, log: false).
    pub fn verify_options(&self) -> VerifyOptions {
        VerifyOptions {
            erase: self.erase.unwrap_or(true),
            log: self.log.unwrap_or(false),
            control: self.control.as_ref().map(|c| Control {
                id: c.id.clone(),
                action: c.action.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn body(v: Value) -> CreateParams {
        serde_json::from_value(v).unwrap()
    }

    fn fields(v: Value) -> Vec<String> {
        match body(v).validate() {
            Ok(n) => panic!("accepted: {n:?}"),
            Err(e) => e.into_iter().map(|e| e.field).collect(),
        }
    }

    fn ok(v: Value) -> NewChallenge {
        body(v).validate().unwrap()
    }

    #[test]
    fn defaults_are_a_timeless_encrypted_uuid() {
        let n = ok(json!({ "action": "a", "id": "b" }));
        assert_eq!(n.action().as_str(), "a");
        assert_eq!(n.id().as_str(), "b");
        assert_eq!((n.ttl(), n.throttle(), n.regenerate()), (0, 0, false));
        assert_eq!(n.metadata, Value::Null);
        assert_eq!(
            n.secret(),
            Some(&SecretSpec {
                kind: SecretKind::Uuid,
                encrypt: true
            })
        );
        assert_eq!(ok(json!({ "action": "a", "id": "b", "secret": true })), n);
        assert_eq!(ok(json!({ "action": "a", "id": "b", "ttl": null })), n);
    }

    #[test]
    fn action_and_id_must_be_short_non_empty_strings() {
        assert_eq!(fields(json!({ "id": "b" })), ["action"]);
        assert_eq!(fields(json!({ "action": "a" })), ["id"]);
        assert_eq!(fields(json!({})), ["action", "id"]);
        assert_eq!(fields(json!({ "action": "", "id": "b" })), ["action"]);
        assert_eq!(fields(json!({ "action": 5, "id": "b" })), ["action"]);
        assert_eq!(fields(json!({ "action": "a", "id": ["b"] })), ["id"]);
        assert_eq!(fields(json!({ "action": "a", "id": null })), ["id"]);
        assert_eq!(
            fields(json!({ "action": "x".repeat(257), "id": "b" })),
            ["action"]
        );
        assert_eq!(
            fields(json!({ "action": "a", "id": "x".repeat(257) })),
            ["id"]
        );
        assert_eq!(
            fields(json!({ "action": "a\u{0}b", "id": "c" })),
            ["action"]
        );
        ok(json!({ "action": "x".repeat(256), "id": "é".repeat(128) }));
    }

    #[test]
    fn ttl_is_whole_non_negative_seconds() {
        for bad in [
            json!(-1),
            json!(1.5),
            json!("10"),
            json!(true),
            json!(4294967296u64),
            json!(-0.5),
        ] {
            assert_eq!(
                fields(json!({ "action": "a", "id": "b", "ttl": bad })),
                ["ttl"],
                "{bad}"
            );
        }
        assert_eq!(ok(json!({ "action": "a", "id": "b", "ttl": 3.0 })).ttl(), 3);
        assert_eq!(ok(json!({ "action": "a", "id": "b", "ttl": 0 })).ttl(), 0);
        assert_eq!(
            ok(json!({ "action": "a", "id": "b", "ttl": 4294967295u64 })).ttl(),
            u32::MAX
        );
    }

    #[test]
    fn throttle_fits_inside_ttl() {
        let t = |ttl: Value, throttle: Value| json!({ "action": "a", "id": "b", "ttl": ttl, "throttle": throttle });
        assert_eq!(fields(t(json!(3), json!(10))), ["throttle"]);
        assert_eq!(
            fields(json!({ "action": "a", "id": "b", "throttle": true })),
            ["throttle"]
        );
        assert_eq!(fields(t(json!(0), json!(true))), ["throttle"]);
        assert_eq!(fields(t(json!(0), json!(1))), ["throttle"]);
        assert_eq!(fields(t(json!(10), json!(-1))), ["throttle"]);
        assert_eq!(fields(t(json!(10), json!(1.5))), ["throttle"]);
        assert_eq!(fields(t(json!(10), json!("5"))), ["throttle"]);
        assert_eq!(fields(t(json!(10), json!({}))), ["throttle"]);
        assert_eq!(ok(t(json!(10), json!(true))).throttle(), 10);
        assert_eq!(ok(t(json!(10), json!(10))).throttle(), 10);
        assert_eq!(ok(t(json!(10), json!(0))).throttle(), 0);
        assert_eq!(ok(t(json!(0), json!(0))).throttle(), 0);
        // docs/API.md: `true` or seconds, otherwise 422 (issue 16): `false` too.
        assert_eq!(fields(t(json!(10), json!(false))), ["throttle"]);
        assert_eq!(fields(t(json!(0), json!(false))), ["throttle"]);
        // A bad ttl is reported once, not again through the throttle.
        assert_eq!(fields(t(json!(-1), json!(true))), ["ttl"]);
    }

    #[test]
    fn secret_shapes() {
        let s = |secret: Value| json!({ "action": "a", "id": "b", "secret": secret });
        let spec = |v: Value| ok(s(v)).secret().cloned();
        assert_eq!(spec(json!(false)), None);
        assert_eq!(
            spec(json!({ "type": "uuid" })),
            Some(SecretSpec {
                kind: SecretKind::Uuid,
                encrypt: true
            })
        );
        assert_eq!(
            spec(json!({ "type": "uuid", "encrypt": false })),
            Some(SecretSpec {
                kind: SecretKind::Uuid,
                encrypt: false
            })
        );
        assert_eq!(
            spec(json!({ "type": "number", "length": 6 })),
            Some(SecretSpec {
                kind: SecretKind::Number { length: 6 },
                encrypt: false
            })
        );
        assert_eq!(
            spec(json!({ "type": "alphabet", "alphabet": "abcd", "length": 10, "encrypt": true })),
            Some(SecretSpec {
                kind: SecretKind::Alphabet {
                    alphabet: "abcd".into(),
                    length: 10
                },
                encrypt: true
            })
        );
        let cases = [
            (json!("uuid"), "secret"),
            (json!(1), "secret"),
            (json!({}), "secret.type"),
            (json!({ "type": "emoji" }), "secret.type"),
            (json!({ "type": 1 }), "secret.type"),
            (
                json!({ "type": "alphabet", "length": 4 }),
                "secret.alphabet",
            ),
            (
                json!({ "type": "alphabet", "alphabet": "ab" }),
                "secret.length",
            ),
            (
                json!({ "type": "alphabet", "alphabet": "aaaa", "length": 4 }),
                "secret.alphabet",
            ),
            (
                json!({ "type": "alphabet", "alphabet": "", "length": 4 }),
                "secret.alphabet",
            ),
            (
                json!({ "type": "alphabet", "alphabet": 12, "length": 4 }),
                "secret.alphabet",
            ),
            (
                json!({ "type": "alphabet", "alphabet": "ab".repeat(2049), "length": 4 }),
                "secret.alphabet",
            ),
            (json!({ "type": "number" }), "secret.length"),
            (json!({ "type": "number", "length": 0 }), "secret.length"),
            (json!({ "type": "number", "length": 257 }), "secret.length"),
            (json!({ "type": "number", "length": 2.5 }), "secret.length"),
            (json!({ "type": "number", "length": "6" }), "secret.length"),
            (
                json!({ "type": "number", "length": 6, "alphabet": "ab" }),
                "secret.alphabet",
            ),
            (json!({ "type": "uuid", "length": 4 }), "secret.length"),
            (
                json!({ "type": "uuid", "alphabet": "ab" }),
                "secret.alphabet",
            ),
            (
                json!({ "type": "uuid", "encrypt": "yes" }),
                "secret.encrypt",
            ),
            (json!({ "type": "uuid", "colour": "red" }), "secret.colour"),
        ];
        for (secret, field) in cases {
            assert_eq!(fields(s(secret.clone())), [field], "{secret}");
        }
        ok(s(json!({ "type": "number", "length": 256 })));
        ok(s(
            json!({ "type": "alphabet", "alphabet": "aab", "length": 1 }),
        ));
    }

    #[test]
    fn regenerate_needs_a_secret_and_a_boolean() {
        assert_eq!(
            fields(json!({ "action": "a", "id": "b", "regenerate": true, "secret": false })),
            ["regenerate"]
        );
        assert_eq!(
            fields(json!({ "action": "a", "id": "b", "regenerate": "yes" })),
            ["regenerate"]
        );
        assert!(ok(json!({ "action": "a", "id": "b", "regenerate": true })).regenerate());
        ok(json!({ "action": "a", "id": "b", "regenerate": false, "secret": false }));
    }

    #[test]
    fn metadata_is_any_json_up_to_16_kib() {
        let m = json!({ "random": ["10", 20, {}], "bool": true });
        assert_eq!(
            ok(json!({ "action": "a", "id": "b", "metadata": m.clone() })).metadata,
            m
        );
        let big = "x".repeat(MAX_METADATA_BYTES);
        assert_eq!(
            fields(json!({ "action": "a", "id": "b", "metadata": big })),
            ["metadata"]
        );
        let fits = "x".repeat(MAX_METADATA_BYTES - 2);
        ok(json!({ "action": "a", "id": "b", "metadata": fits }));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let f = fields(json!({ "action": "", "id": 3, "ttl": -1, "secret": { "type": "x" } }));
        assert_eq!(f, ["action", "id", "ttl", "secret.type"]);
    }

    #[test]
    fn unknown_fields_are_refused_by_serde() {
        assert!(serde_json::from_value::<CreateParams>(
            json!({ "action": "a", "id": "b", "x": 1 })
        )
        .is_err());
        assert!(serde_json::from_value::<LookupParams>(json!({ "uid": "u", "x": 1 })).is_err());
        assert!(serde_json::from_value::<LookupParams>(
            json!({ "token": "t", "control": { "x": 1 } })
        )
        .is_err());
    }

    fn lookup(v: Value) -> Result<Lookup, Vec<String>> {
        serde_json::from_value::<LookupParams>(v)
            .unwrap()
            .lookup()
            .map_err(|e| e.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn lookups_take_one_of_four_shapes() {
        assert_eq!(
            lookup(json!({ "uid": "u" })).unwrap(),
            Lookup::Uid("u".into())
        );
        assert_eq!(
            lookup(json!({ "token": "" })).unwrap(),
            Lookup::Token(String::new())
        );
        assert_eq!(
            lookup(json!({ "action": "a", "id": "b" })).unwrap(),
            Lookup::Pair {
                action: "a".into(),
                id: "b".into()
            }
        );
        assert_eq!(
            lookup(json!({ "action": "a", "id": "b", "secret": "s" })).unwrap(),
            Lookup::Secret {
                action: "a".into(),
                id: "b".into(),
                secret: "s".into()
            }
        );
        assert_eq!(lookup(json!({})).unwrap_err(), ["action"]);
        assert_eq!(lookup(json!({ "action": "a" })).unwrap_err(), ["id"]);
        assert_eq!(lookup(json!({ "id": "b" })).unwrap_err(), ["action"]);
        assert_eq!(
            lookup(json!({ "secret": "s" })).unwrap_err(),
            ["action", "id"]
        );
        assert_eq!(
            lookup(json!({ "action": "", "id": "b" })).unwrap_err(),
            ["action"]
        );
        assert_eq!(
            lookup(json!({ "action": "a", "id": "b", "secret": "" })).unwrap_err(),
            ["secret"]
        );
        assert_eq!(
            lookup(json!({ "token": "t", "uid": "u" })).unwrap_err(),
            ["uid"]
        );
        assert_eq!(
            lookup(json!({ "token": "t", "action": "a", "id": "b" })).unwrap_err(),
            ["action", "id"]
        );
        assert_eq!(
            lookup(json!({ "uid": "u", "secret": "s" })).unwrap_err(),
            ["secret"]
        );
        assert_eq!(lookup(json!({ "uid": "" })).unwrap_err(), ["uid"]);
    }

    #[test]
    fn verify_options_default_to_erase() {
        let p: LookupParams = serde_json::from_value(json!({ "token": "t" })).unwrap();
        let o = p.verify_options();
        assert!(o.erase && !o.log && o.control.is_none());
        let p: LookupParams = serde_json::from_value(
            json!({ "token": "t", "erase": false, "log": true, "control": { "id": "x" } }),
        )
        .unwrap();
        let o = p.verify_options();
        assert!(!o.erase && o.log);
        assert_eq!(o.control.unwrap().id.as_deref(), Some("x"));
    }

    #[test]
    fn lookup_debug_hides_tokens_and_secrets() {
        let p: LookupParams =
            serde_json::from_value(json!({ "action": "a", "id": "b", "secret": "hunter2" }))
                .unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
        assert!(!format!("{:?}", p.lookup().unwrap()).contains("hunter2"));
    }

    proptest! {
        #[test]
        fn names_parse_iff_short_non_empty_and_nul_free(s in "\\PC{0,300}") {
            let valid = !s.is_empty() && s.len() <= 256 && !s.contains('\0');
            prop_assert_eq!(Action::parse(s.clone()).is_ok(), valid);
            prop_assert_eq!(ChallengeId::parse(s.clone()).is_ok(), valid);
            if valid {
                let parsed = Action::parse(s.clone()).unwrap();
                prop_assert_eq!(parsed.as_str(), s.as_str());
            }
        }

        #[test]
        fn throttle_is_accepted_iff_within_ttl(ttl in 0u32..1000, throttle in -5i64..1100) {
            let r = body(json!({ "action": "a", "id": "b", "ttl": ttl, "throttle": throttle })).validate();
            prop_assert_eq!(r.is_ok(), throttle >= 0 && throttle <= i64::from(ttl));
        }
    }
}
