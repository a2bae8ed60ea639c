//! The OpenAPI 3.1 document (`GET /openapi.json`, `toktok openapi`) and the
//! Swagger UI (`GET /docs`, assets vendored into the binary).
//!
//! Each operation is declared once, beside its handler, by
//! `#[utoipa::path]`; [`crate::http::routes`] gathers them with the routes
//! themselves (`utoipa-axum`), so the document cannot list a route the
//! router does not serve, or miss one it does. Request and response bodies
//! derive their schemas from the Rust types that (de)serialise them
//! (`#[derive(utoipa::ToSchema)]`).
//!
//! What is left here is what no handler owns: the document's info, the
//! security schemes, the schemas that no Rust type describes (the problem
//! body, a JWE, the JWKS, the RSA public key, and the challenge bodies,
//! which the engine reads field by field to name each bad one), and
//! [`Standard`], which gives every operation the error answers that follow
//! from who may call it and whether it takes a body. Schemathesis checks the
//! result against the live server in CI (`tests/schemathesis/run.sh`), and
//! client generators check it can be used (`tests/openapi/run.sh`).
//!
//! The document does not depend on the configuration: features that can be
//! switched off (RSA, anonymous tokens, email) are documented with the
//! answers they give when off (404 `feature_disabled`).

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{json, Value};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType};
use utoipa::openapi::security::SecurityScheme;
use utoipa::openapi::{Components, Info, License, OpenApi, RefOr, Response, Server, Tag};
use utoipa::{Modify, PartialSchema, ToSchema};

/// Where the document and the UI are served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

/// The statuses every API operation can answer with an error, whatever it
/// does: rate limits and overload.
const ALWAYS: &[u16] = &[429, 503];
/// The statuses any request body can give.
const BODY: &[u16] = &[400, 413, 415, 422];
/// The statuses credentials can give.
const CREDENTIALS: &[u16] = &[401, 403];

/// The problem answers by status: the shared components
/// `#/components/responses/E{status}` (problem+json) and `F{status}` (the
/// same, or an HTML page for a posted form).
const ERROR_CODES: &[(u16, &str)] = &[
    (400, "Malformed JSON or JWE: `malformed_body`, `invalid_encryption`, `encryption_required`, `invalid_token` (link and challenge tokens)."),
    (401, "Missing or bad credentials: `unauthenticated`, `invalid_token`, `token_expired`, `token_reused`, `invalid_credentials`, `anonymous_token_required`."),
    (403, "Not allowed: `forbidden`, `already_authenticated`, `email_not_confirmed`, `wrong_password`, `control_mismatch`, `registration_closed`, `reauthentication_required`, `link_required`."),
    (404, "`not_found`, `feature_disabled`, `challenge_not_found`."),
    (409, "`email_taken`, `conflict`."),
    (413, "`body_too_large`."),
    (415, "`unsupported_media_type`."),
    (422, "`validation_failed` (with `errors`), `weak_password`."),
    (429, "`rate_limited`, `throttled` (with `Retry-After` and `retry_after`)."),
    (502, "`provider_unavailable`: an upstream sign-in provider could not be reached or answered badly; `hook_failed`: the access-token hook failed with `on_error = \"deny\"`."),
    (503, "`overloaded`, `storage_unavailable` (with `Retry-After`)."),
];

/// The document: every operation of [`crate::http::routes`], completed by
/// [`Standard`].
pub fn document() -> OpenApi {
    let mut document = crate::http::routes().into_openapi();
    Standard.modify(&mut document);
    document
}

/// `GET /openapi.json`: the [`document`] as JSON, with `application/json`
/// first among each body's media types (utoipa keeps them sorted, which
/// puts `application/jose` first): Swagger UI's "Try it out" starts with
/// the first.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", summary = "This OpenAPI document",
    responses((status = 200, description = "OpenAPI 3.1 document.", body = Object)))]
pub async fn serve() -> axum::response::Response {
    let document = serde_json::to_value(document()).unwrap_or_default();
    let mut text = String::new();
    write_json_first(&document, &mut text);
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Writes `value` as compact JSON, each object's `application/json` member
/// first and the others in their order.
fn write_json_first(value: &Value, out: &mut String) {
    const FIRST: &str = "application/json";
    match value {
        Value::Object(map) => {
            out.push('{');
            let first = map.get_key_value(FIRST);
            let rest = map.iter().filter(|(key, _)| key.as_str() != FIRST);
            for (i, (key, inner)) in first.into_iter().chain(rest).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_json_first(inner, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, inner) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_first(inner, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Completes the operations gathered from the handlers:
///
/// - the info, the servers, the security schemes, the problem answers and
///   the schemas that only they use;
/// - every operation's error answers: those its handler lists (by status;
///   the handler's description is for the reader of the source), 401/403
///   when it has a security requirement, 400/413/415/422 when it takes a
///   body, 429/503 under `/v1/`; each becomes a reference to the shared
///   problem answer (`F…` when the body may be a posted HTML form);
/// - the `operationId`s, `{method}_{path words}` (`post_v1_auth_login`),
///   the names generated clients give their functions;
/// - `GET /docs`, Swagger UI's own route (`super::swagger`, not a handler here).
pub struct Standard;

impl Modify for Standard {
    fn modify(&self, document: &mut OpenApi) {
        document.openapi = utoipa::openapi::OpenApiVersion::Version31;
        document.info = info();
        document.servers = Some(vec![Server::new("/")]);
        document
            .paths
            .paths
            .insert(DOCS_PATH.into(), docs_path_item());
        for (path, item) in document.paths.paths.iter_mut() {
            for (method, operation) in operations_mut(item) {
                if let Some(operation) = operation {
                    complete(method, path, operation);
                }
            }
        }
        let components = document.components.get_or_insert_with(Components::new);
        components.security_schemes.extend(security_schemes());
        components.responses.extend(error_responses());
        components
            .schemas
            .insert(Problem::name().into_owned(), Problem::schema());
        document.tags = Some(
            [
                "ops",
                "discovery",
                "accounts",
                "users",
                "email",
                "challenges",
                "admin",
                "oidc",
                "providers",
            ]
            .into_iter()
            .map(Tag::new)
            .collect(),
        );
    }
}

fn info() -> Info {
    let mut info = Info::new("toktok", env!("CARGO_PKG_VERSION"));
    info.description = Some(
        "A self-hosted authentication server. The contract is docs/API.md; (A) marks endpoints that \
         need an anonymous token when `[anonymous] required = true`, (E) those that also accept \
         an RSA-encrypted `application/jose` body. `/metrics` is not on this port: it is served \
         on its own listener (`metrics.listen`, loopback by default)."
            .into(),
    );
    let mut license = License::new("MIT OR Apache-2.0");
    license.identifier = Some("MIT OR Apache-2.0".into());
    info.license = Some(license);
    info
}

fn operations_mut(item: &mut PathItem) -> [(&'static str, &mut Option<Operation>); 8] {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
}

/// The `operationId` of `method path`: `post_v1_auth_login`.
fn operation_id(method: &str, path: &str) -> String {
    let words: String = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| format!("_{s}"))
        .collect();
    format!("{method}{words}")
}

fn complete(method: &str, path: &str, operation: &mut Operation) {
    operation.operation_id = Some(operation_id(method, path));
    // An error the handler lists by status alone; one with its own body
    // (`/ready`'s 503) stays as written.
    let listed = operation
        .responses
        .responses
        .iter()
        .filter(|(_, answer)| match answer {
            RefOr::T(response) => response.content.is_empty(),
            RefOr::Ref(_) => false,
        })
        .filter_map(|(status, _)| status.parse::<u16>().ok())
        .filter(|status| *status >= 400);
    let mut errors: Vec<u16> = listed.collect();
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    if secured {
        errors.extend_from_slice(CREDENTIALS);
    }
    let form = match &operation.request_body {
        Some(body) => {
            errors.extend_from_slice(BODY);
            body.content
                .contains_key("application/x-www-form-urlencoded")
        }
        None => false,
    };
    if path.starts_with("/v1/") {
        errors.extend_from_slice(ALWAYS);
    }
    errors.sort_unstable();
    errors.dedup();
    let written_out = |status: &u16| {
        matches!(operation.responses.responses.get(&status.to_string()),
            Some(RefOr::T(response)) if !response.content.is_empty())
    };
    errors.retain(|status| !written_out(status));
    // A posted HTML form gets its errors as a page, a JSON body as problem+json.
    let kind = if form { "F" } else { "E" };
    for status in errors {
        operation.responses.responses.insert(
            status.to_string(),
            RefOr::Ref(utoipa::openapi::Ref::new(format!(
                "#/components/responses/{kind}{status}"
            ))),
        );
    }
}

/// `GET /docs`: served by the Swagger UI router (`super::swagger`).
fn docs_path_item() -> PathItem {
    let operation = json!({
        "tags": ["ops"],
        "summary": "Swagger UI (redirects to /docs/)",
        "responses": {
            "303": { "description": "Redirect to the Swagger UI page at `/docs/`." }
        }
    });
    let mut item = PathItem::default();
    item.get = serde_json::from_value(operation).ok();
    item
}

fn security_schemes() -> Vec<(String, SecurityScheme)> {
    let schemes = json!({
        "bearer_jwt": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "An access token, or an anonymous token where (A) applies."
        },
        "api_key": {
            "type": "http", "scheme": "bearer", "bearerFormat": "tk_…",
            "description": "An API key (`toktok api-key create`), sent as `Authorization: Bearer tk_…`."
        },
        "client_secret_basic": {
            "type": "http", "scheme": "basic",
            "description": "An OAuth client's id and secret (RFC 6749 §2.3.1, each form-urlencoded). Public clients send `client_id` in the body instead; confidential ones may send `client_id` and `client_secret` there (client_secret_post)."
        }
    });
    serde_json::from_value::<std::collections::BTreeMap<String, SecurityScheme>>(schemes)
        .map(|schemes| schemes.into_iter().collect())
        .unwrap_or_default()
}

fn error_response(status: u16, description: &str, page: bool) -> Value {
    let mut headers = serde_json::Map::new();
    if status == 401 {
        headers.insert(
            "WWW-Authenticate".into(),
            json!({ "description": "`Bearer …` challenge.", "schema": { "type": "string" } }),
        );
    }
    if status == 429 || status == 503 {
        headers.insert(
            "Retry-After".into(),
            json!({ "description": "Seconds to wait.", "schema": { "type": "integer" } }),
        );
    }
    let mut response = json!({
        "description": description,
        "content": { "application/problem+json": {
            "schema": { "$ref": "#/components/schemas/Problem" } } }
    });
    if page {
        response["content"]["text/html"] = json!({ "schema": { "type": "string" } });
        response["description"] = json!(format!("{description} A posted form gets an HTML page."));
    }
    if !headers.is_empty() {
        response["headers"] = Value::Object(headers);
    }
    response
}

fn error_responses() -> Vec<(String, RefOr<Response>)> {
    let mut responses = Vec::new();
    for (status, description) in ERROR_CODES {
        for (kind, page) in [("E", false), ("F", true)] {
            let value = error_response(*status, description, page);
            if let Ok(response) = serde_json::from_value(value) {
                responses.push((format!("{kind}{status}"), RefOr::T(response)));
            }
        }
    }
    responses
}

/// A schema written as JSON. The texts below are fixed and parse (a test
/// reads each back); were one not to, the document would hold an empty
/// schema rather than the server refuse to start.
fn written(schema: Value) -> RefOr<Schema> {
    serde_json::from_value(schema).unwrap_or_else(|_| RefOr::T(Schema::default()))
}

/// RFC 9457 problem details: every error answer (`crate::error::ApiError`).
pub struct Problem;

impl PartialSchema for Problem {
    fn schema() -> RefOr<Schema> {
        written(json!({
            "type": "object",
            "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status", "code"],
            "properties": {
                "type": { "type": "string", "examples": ["urn:toktok:invalid_token"] },
                "title": { "type": "string" },
                "status": { "type": "integer" },
                "code": { "type": "string" },
                "detail": { "type": "string" },
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object", "required": ["field", "message"],
                        "properties": { "field": { "type": "string" }, "message": { "type": "string" } }
                    }
                },
                "retry_after": { "type": "integer", "minimum": 0 }
            }
        }))
    }
}

impl ToSchema for Problem {}

/// An (E) body encrypted to the server's RSA key (`crate::auth::rsa`).
pub struct Jwe;

impl PartialSchema for Jwe {
    fn schema() -> RefOr<Schema> {
        written(json!({
            "type": "string",
            "description": "JWE compact serialization (`alg` RSA-OAEP-256, `enc` A256GCM, optional `kid`) whose plaintext is the JSON body. Accepted when RSA is on.",
            "pattern": "^[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*$"
        }))
    }
}

impl ToSchema for Jwe {}

/// The JWKS (`crate::auth::jwt`, built as JSON).
pub struct Jwks;

impl PartialSchema for Jwks {
    fn schema() -> RefOr<Schema> {
        written(json!({
            "type": "object", "required": ["keys"],
            "properties": { "keys": { "type": "array", "items": { "type": "object" } } }
        }))
    }
}

impl ToSchema for Jwks {}

/// The RSA public key (`crate::auth::rsa`, built as JSON).
pub struct PublicKey;

impl PartialSchema for PublicKey {
    fn schema() -> RefOr<Schema> {
        written(json!({
            "type": "object",
            "required": ["kid", "alg", "enc", "pem", "jwk"],
            "properties": {
                "kid": { "type": "string" },
                "alg": { "type": "string", "enum": ["RSA-OAEP-256"] },
                "enc": { "type": "string", "enum": ["A256GCM"] },
                "pem": { "type": "string" },
                "jwk": { "type": "object" }
            }
        }))
    }
}

impl ToSchema for PublicKey {}

/// A challenge's action or id: 1 to 256 bytes of UTF-8, no NUL
/// (`crate::challenge::params`). JSON Schema counts characters, not bytes:
/// `maxLength` is the bound a string must meet, not all it must meet.
fn challenge_name() -> Value {
    json!({
        "type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[^\\u0000]*$",
        "description": "1 to 256 bytes of UTF-8, no NUL."
    })
}

/// `POST /v1/challenges` (`crate::challenge::CreateParams`).
pub struct ChallengeCreate;

impl PartialSchema for ChallengeCreate {
    fn schema() -> RefOr<Schema> {
        let boolean = json!({ "type": "boolean" });
        let secret_length = json!({ "type": "integer", "minimum": 1, "maximum": 256 });
        let mut schema = written(json!({
            "type": "object", "additionalProperties": false, "required": ["action", "id"],
            "example": { "action": "verify-phone", "id": "user-42", "ttl": 600,
                         "secret": { "type": "number", "length": 6 } },
            "properties": {
                "action": challenge_name(),
                "id": challenge_name(),
                "ttl": { "type": ["integer", "null"], "minimum": 0,
                         "description": "Seconds; 0 or absent: never expires." },
                "throttle": {
                    "description": "`true` (= ttl) or seconds, at most ttl.",
                    "oneOf": [
                        { "type": "boolean", "enum": [true] }, { "type": "integer", "minimum": 0 },
                        { "type": "null" }
                    ]
                },
                "secret": { "oneOf": [
                    { "type": "boolean" },
                    { "type": "null" },
                    {
                        "type": "object", "additionalProperties": false, "required": ["type"],
                        "properties": { "type": { "type": "string", "enum": ["uuid"] }, "encrypt": boolean }
                    },
                    {
                        "type": "object", "additionalProperties": false,
                        "required": ["type", "length"],
                        "properties": {
                            "type": { "type": "string", "enum": ["number"] }, "length": secret_length,
                            "encrypt": boolean
                        }
                    },
                    {
                        "type": "object", "additionalProperties": false,
                        "required": ["type", "alphabet", "length"],
                        "properties": {
                            "type": { "type": "string", "enum": ["alphabet"] },
                            "alphabet": {
                                "type": "string", "minLength": 2,
                                "description": "At least 2 distinct characters."
                            },
                            "length": secret_length, "encrypt": boolean
                        }
                    }
                ]},
                "regenerate": { "type": ["boolean", "null"] }
            }
        }));
        // Any JSON value: a schema without a type, which utoipa writes but
        // does not read.
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            let any = ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some("Any JSON, at most 16 KiB serialised."));
            object.properties.insert("metadata".into(), any.into());
        }
        schema
    }
}

impl ToSchema for ChallengeCreate {}

/// How a body names a challenge (`crate::challenge::LookupParams::lookup`);
/// each operation takes some of these.
#[derive(Clone, Copy)]
enum Names {
    /// `{uid}`.
    Uid,
    /// `{token}`: an encrypted secret, which alone names and verifies.
    Token,
    /// `{action, id}`, with `secret` optional (info) or none (regenerate,
    /// remove).
    Pair { secret: bool },
    /// `{action, id, secret}` (verify).
    Secret,
}

/// A body that names a challenge in one of the `ways`, each shape with the
/// `extra` properties beside it.
fn selector(ways: &[Names], extra: Value, example: Value) -> RefOr<Schema> {
    let one_of: Vec<Value> = ways
        .iter()
        .map(|way| {
            let (mut properties, required) = match way {
                Names::Uid => (
                    json!({ "uid": { "type": "string", "minLength": 1, "maxLength": 256 } }),
                    json!(["uid"]),
                ),
                Names::Token => (
                    json!({ "token": { "type": "string", "minLength": 1 } }),
                    json!(["token"]),
                ),
                Names::Pair { secret: false } => (
                    json!({ "action": challenge_name(), "id": challenge_name() }),
                    json!(["action", "id"]),
                ),
                Names::Pair { secret: true } => (
                    json!({ "action": challenge_name(), "id": challenge_name(),
                            "secret": { "type": ["string", "null"], "minLength": 1 } }),
                    json!(["action", "id"]),
                ),
                Names::Secret => (
                    json!({ "action": challenge_name(), "id": challenge_name(),
                            "secret": { "type": "string", "minLength": 1 } }),
                    json!(["action", "id", "secret"]),
                ),
            };
            if let (Some(p), Some(extra)) = (properties.as_object_mut(), extra.as_object()) {
                p.extend(extra.clone());
            }
            json!({
                "type": "object", "additionalProperties": false,
                "required": required, "properties": properties
            })
        })
        .collect();
    written(json!({ "oneOf": one_of, "example": example }))
}

/// `POST /v1/challenges/verify` (`crate::challenge::LookupParams`): by
/// token, or by action, id and secret.
pub struct ChallengeVerify;

impl PartialSchema for ChallengeVerify {
    fn schema() -> RefOr<Schema> {
        selector(
            &[Names::Token, Names::Secret],
            json!({
                "erase": { "type": ["boolean", "null"], "description": "Delete on success (default true)." },
                "log": { "type": ["boolean", "null"], "description": "Write an audit event (default false)." },
                "control": { "oneOf": [
                    { "$ref": "#/components/schemas/ChallengeControl" }, { "type": "null" }
                ]}
            }),
            json!({ "action": "verify-phone", "id": "user-42", "secret": "123456" }),
        )
    }
}

impl ToSchema for ChallengeVerify {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            ChallengeControl::name().into_owned(),
            ChallengeControl::schema(),
        ));
    }
}

/// `control` of a verify body: values the challenge must have
/// (`crate::challenge::ControlParams`).
pub struct ChallengeControl;

impl PartialSchema for ChallengeControl {
    fn schema() -> RefOr<Schema> {
        written(json!({
            "type": "object", "additionalProperties": false,
            "description": "Values the challenge must have.",
            "properties": {
                "id": { "type": ["string", "null"] },
                "action": { "type": ["string", "null"] }
            }
        }))
    }
}

impl ToSchema for ChallengeControl {}

/// `POST /v1/challenges/info`: by uid, token, or action and id (with the
/// secret, to read it only if it is right).
pub struct ChallengeSelector;

impl PartialSchema for ChallengeSelector {
    fn schema() -> RefOr<Schema> {
        selector(
            &[Names::Uid, Names::Token, Names::Pair { secret: true }],
            json!({}),
            json!({ "action": "verify-phone", "id": "user-42" }),
        )
    }
}

impl ToSchema for ChallengeSelector {}

/// `POST /v1/challenges/regenerate`: by uid, or action and id.
pub struct ChallengeRegenerateBody;

impl PartialSchema for ChallengeRegenerateBody {
    fn schema() -> RefOr<Schema> {
        selector(
            &[Names::Uid, Names::Pair { secret: false }],
            json!({}),
            json!({ "action": "verify-phone", "id": "user-42" }),
        )
    }
}

impl ToSchema for ChallengeRegenerateBody {}

/// `POST /v1/challenges/remove`: by uid, token, or action and id.
pub struct ChallengeRemoveBody;

impl PartialSchema for ChallengeRemoveBody {
    fn schema() -> RefOr<Schema> {
        selector(
            &[Names::Uid, Names::Token, Names::Pair { secret: false }],
            json!({}),
            json!({ "action": "verify-phone", "id": "user-42" }),
        )
    }
}

impl ToSchema for ChallengeRemoveBody {}

/// The Content-Security-Policy of `/docs`: everything from this origin
/// only (the vendored bundle, the document, "Try it out" requests), images
/// also as `data:` URIs (Swagger UI's icons), inline styles (Swagger UI
/// sets style attributes), no plugins, no framing (TT-12).
pub const DOCS_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_written_schema_parses() {
        let empty = serde_json::to_value(Schema::default()).unwrap();
        for schema in [
            Problem::schema(),
            Jwe::schema(),
            Jwks::schema(),
            PublicKey::schema(),
            ChallengeCreate::schema(),
            ChallengeVerify::schema(),
            ChallengeControl::schema(),
            ChallengeSelector::schema(),
            ChallengeRegenerateBody::schema(),
            ChallengeRemoveBody::schema(),
        ] {
            let value = serde_json::to_value(schema).unwrap();
            assert_ne!(value, empty, "a written schema did not parse");
        }
        assert_eq!(security_schemes().len(), 3);
        assert_eq!(error_responses().len(), 2 * ERROR_CODES.len());
        assert!(docs_path_item().get.is_some());
    }

    #[test]
    fn json_comes_first_and_nothing_is_lost() {
        let value = json!({ "content": { "application/jose": 1, "application/json": [2, "x"] },
                            "a": { "b": null, "c": true, "d": 1.5 } });
        let mut text = String::new();
        write_json_first(&value, &mut text);
        assert!(
            text.contains(r#"{"application/json":[2,"x"],"application/jose":1}"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }

    #[test]
    fn operation_ids_are_method_and_path_words() {
        assert_eq!(operation_id("post", "/v1/auth/login"), "post_v1_auth_login");
        assert_eq!(
            operation_id("get", "/.well-known/jwks.json"),
            "get_well_known_jwks_json"
        );
        assert_eq!(
            operation_id("delete", "/v1/users/me/sessions/{id}"),
            "delete_v1_users_me_sessions_id"
        );
    }
}
