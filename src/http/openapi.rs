//! The OpenAPI 3.1 document (`GET /openapi.json`, `toktok openapi`) and the
//! Swagger UI (`GET /docs`, assets vendored into the binary).
//!
//! Operations are listed here, one entry per route of
//! [`crate::router::ROUTES`], following API.md; a test checks that both lists
//! hold the same (method, path) pairs, so neither can drift. The schemas of
//! request and response bodies are derived from the Rust types that
//! (de)serialise them (`#[derive(utoipa::ToSchema)]`, [`derived_schemas`]);
//! only bodies built as JSON in code (settings, health, JWKS, problem) and
//! the challenge bodies, which the engine reads field by field to name each
//! bad one, are written out here. Schemathesis checks the result against
//! the live server in CI (`tests/schemathesis/run.sh`).
//!
//! The document does not depend on the configuration: features that can be
//! switched off (RSA, anonymous tokens, email) are documented with the
//! answers they give when off (404 `feature_disabled`).

use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::openapi::OpenApi;

/// Where the document and the UI are served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

/// Who may call an operation.
#[derive(Clone, Copy)]
enum Sec {
    /// No credentials.
    None,
    /// (A): an anonymous token, required only with `[anonymous] required`.
    Anonymous,
    /// A user's access token.
    Access,
    /// An API key with scope `challenges`.
    ApiKey,
    /// An API key with scope `admin`, or an access token with role `admin`.
    Admin,
}

impl Sec {
    fn requirement(self) -> Option<Value> {
        match self {
            Sec::None => None,
            Sec::Anonymous => Some(json!([{}, { "bearer_jwt": [] }])),
            Sec::Access => Some(json!([{ "bearer_jwt": [] }])),
            Sec::ApiKey => Some(json!([{ "api_key": [] }])),
            Sec::Admin => Some(json!([{ "api_key": [] }, { "bearer_jwt": [] }])),
        }
    }

    /// The error statuses its credentials can give.
    fn errors(self) -> &'static [u16] {
        match self {
            Sec::None => &[],
            Sec::Anonymous | Sec::Access | Sec::ApiKey | Sec::Admin => &[401, 403],
        }
    }
}

/// The request body of an operation.
enum Body {
    None,
    /// JSON with this schema.
    Json(&'static str),
    /// (E): JSON, or a JWE (`application/jose`) of the same JSON.
    Encrypted(&'static str),
    /// JSON (or JWE), or the built-in page's HTML form.
    Form(&'static str, bool),
}

/// Any JSON value (user metadata and the like). Spelled out as every type
/// because utoipa's schema model has no typeless `{}`.
fn any_json() -> Value {
    json!({ "type": ["object", "array", "string", "number", "boolean", "null"] })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn jose_content() -> Value {
    json!({ "schema": { "$ref": "#/components/schemas/Jwe" } })
}

fn request_body(body: &Body) -> Option<Value> {
    let content = match body {
        Body::None => return None,
        Body::Json(name) => json_content(schema_ref(name)),
        Body::Encrypted(name) => {
            let mut c = json_content(schema_ref(name));
            c["application/jose"] = jose_content();
            c
        }
        Body::Form(name, encrypted) => {
            let mut c = json_content(schema_ref(name));
            if *encrypted {
                c["application/jose"] = jose_content();
            }
            c["application/x-www-form-urlencoded"] = json!({ "schema": schema_ref(name) });
            c
        }
    };
    Some(json!({ "required": true, "content": content }))
}

/// A success answer: status, description, JSON schema (or none).
fn ok(description: &str, schema: Option<Value>) -> Value {
    match schema {
        Some(schema) => json!({ "description": description, "content": json_content(schema) }),
        None => json!({ "description": description }),
    }
}

fn html(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "text/html": { "schema": { "type": "string" } } }
    })
}

struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    sec: Sec,
    body: Body,
    /// Success answers as (status, response object).
    ok: Vec<(u16, Value)>,
    /// Error statuses beyond those of `sec` and the body.
    errors: &'static [u16],
    /// Path or query parameters.
    params: Vec<Value>,
}

fn path_id(description: &str) -> Value {
    json!({
        "name": "id", "in": "path", "required": true, "description": description,
        "schema": { "type": "string" }
    })
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "schema": schema
    })
}

fn operations() -> Vec<Op> {
    use Body::{Encrypted, Form, Json as J};
    let token = |s| (s, ok("Token response.", Some(schema_ref("TokenResponse"))));
    let user = |s| (s, ok("The user.", Some(schema_ref("User"))));
    let admin_user = |s| {
        (
            s,
            ok("The user (admin view).", Some(schema_ref("AdminUser"))),
        )
    };
    let none = |s, d| (s, ok(d, None));
    let record = || {
        (
            200,
            ok("The challenge record.", Some(schema_ref("ChallengeRecord"))),
        )
    };
    let after = |d| query("after", json!({ "type": "string" }), d);
    let limit = query(
        "limit",
        json!({ "type": "integer", "minimum": 1 }),
        "Page size.",
    );
    vec![
        Op {
            method: "GET",
            path: "/health",
            tag: "ops",
            summary: "Liveness: 200 while the process runs",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(200, ok("Running.", Some(schema_ref("Health"))))],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/ready",
            tag: "ops",
            summary: "Readiness: 200 when the database answers, else 503",
            sec: Sec::None,
            body: Body::None,
            ok: vec![
                (200, ok("Ready.", Some(schema_ref("Readiness")))),
                (
                    503,
                    ok(
                        "The database does not answer.",
                        Some(schema_ref("Readiness")),
                    ),
                ),
            ],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/.well-known/jwks.json",
            tag: "ops",
            summary: "Public signing keys (empty for HS256)",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(200, ok("The key set.", Some(schema_ref("Jwks"))))],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "GET",
            path: DOCUMENT_PATH,
            tag: "ops",
            summary: "This OpenAPI document",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(
                200,
                ok("OpenAPI 3.1 document.", Some(json!({ "type": "object" }))),
            )],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "GET",
            path: DOCS_PATH,
            tag: "ops",
            summary: "Swagger UI (redirects to /docs/)",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(
                303,
                json!({ "description": "Redirect to the Swagger UI page at `/docs/`." }),
            )],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/demo",
            tag: "ops",
            summary: "Built-in demo page",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(200, html("The demo page."))],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/settings",
            tag: "discovery",
            summary: "Public settings clients adapt to",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(200, ok("Settings.", Some(schema_ref("Settings"))))],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/anonymous",
            tag: "discovery",
            summary: "Issue an anonymous token",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(
                200,
                ok("Anonymous token.", Some(schema_ref("AnonymousToken"))),
            )],
            errors: &[404],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/auth/public-key",
            tag: "discovery",
            summary: "RSA key for encrypted (application/jose) bodies",
            sec: Sec::None,
            body: Body::None,
            ok: vec![(
                200,
                ok("The RSA public key.", Some(schema_ref("PublicKey"))),
            )],
            errors: &[404],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/register",
            tag: "accounts",
            summary: "Register (A)(E)",
            sec: Sec::Anonymous,
            body: Encrypted("RegisterBody"),
            ok: vec![(
                201,
                json!({
                    "description": "Token response, or `confirmation_sent` when confirmation is required.",
                    "content": json_content(json!({ "oneOf": [
                        schema_ref("TokenResponse"), schema_ref("ConfirmationSent")
                    ]}))
                }),
            )],
            errors: &[409, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/login",
            tag: "accounts",
            summary: "Log in (A)(E)",
            sec: Sec::Anonymous,
            body: Encrypted("LoginBody"),
            ok: vec![token(200)],
            errors: &[422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/refresh",
            tag: "accounts",
            summary: "Rotate a refresh token",
            sec: Sec::None,
            body: J("RefreshBody"),
            ok: vec![token(200)],
            errors: &[401, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/logout",
            tag: "accounts",
            summary: "End this session",
            sec: Sec::Access,
            body: Body::None,
            ok: vec![none(204, "Session ended.")],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/logout-all",
            tag: "accounts",
            summary: "End every session of the user",
            sec: Sec::Access,
            body: Body::None,
            ok: vec![none(204, "Sessions ended.")],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/users/me",
            tag: "users",
            summary: "The current user",
            sec: Sec::Access,
            body: Body::None,
            ok: vec![user(200)],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "PATCH",
            path: "/v1/users/me",
            tag: "users",
            summary: "Update name and metadata",
            sec: Sec::Access,
            body: J("PatchMeBody"),
            ok: vec![user(200)],
            errors: &[422],
            params: vec![],
        },
        Op {
            method: "DELETE",
            path: "/v1/users/me",
            tag: "users",
            summary: "Delete the account (E)",
            sec: Sec::Access,
            body: Encrypted("DeleteMeBody"),
            ok: vec![none(204, "Account deleted.")],
            errors: &[422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/users/me/password",
            tag: "users",
            summary: "Change the password (E)",
            sec: Sec::Access,
            body: Encrypted("ChangePasswordBody"),
            ok: vec![none(204, "Password changed; other sessions ended.")],
            errors: &[422],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/users/me/sessions",
            tag: "users",
            summary: "Active sessions",
            sec: Sec::Access,
            body: Body::None,
            ok: vec![(200, ok("Sessions.", Some(schema_ref("SessionList"))))],
            errors: &[],
            params: vec![],
        },
        Op {
            method: "DELETE",
            path: "/v1/users/me/sessions/{id}",
            tag: "users",
            summary: "End one of the user's sessions",
            sec: Sec::Access,
            body: Body::None,
            ok: vec![none(204, "Session ended.")],
            errors: &[404],
            params: vec![path_id("Session id.")],
        },
        Op {
            method: "POST",
            path: "/v1/users/me/email",
            tag: "users",
            summary: "Request an email change (E)",
            sec: Sec::Access,
            body: Encrypted("ChangeEmailBody"),
            ok: vec![none(202, "Confirmation link sent to the new address.")],
            errors: &[404, 409, 422],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/auth/confirm-email",
            tag: "email",
            summary: "Email confirmation link (never consumes the token)",
            sec: Sec::None,
            body: Body::None,
            ok: vec![
                (200, html("A page whose button POSTs the token.")),
                (
                    303,
                    json!({ "description": "Redirect to `email.confirm_redirect_url#token=…`." }),
                ),
            ],
            errors: &[404],
            params: vec![query(
                "token",
                json!({ "type": "string" }),
                "The link token.",
            )],
        },
        Op {
            method: "POST",
            path: "/v1/auth/confirm-email",
            tag: "email",
            summary: "Confirm a sign-up or an email change",
            sec: Sec::None,
            body: Form("TokenBody", false),
            ok: vec![(
                200,
                json!({
                    "description": "The user (JSON), or a result page when the form was posted.",
                    "content": {
                        "application/json": { "schema": schema_ref("User") },
                        "text/html": { "schema": { "type": "string" } }
                    }
                }),
            )],
            errors: &[404, 409, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/confirm-email/resend",
            tag: "email",
            summary: "Resend the confirmation link (A)",
            sec: Sec::Anonymous,
            body: J("EmailBody"),
            ok: vec![(202, ok("Accepted (always).", Some(schema_ref("Accepted"))))],
            errors: &[404, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/auth/password/forgot",
            tag: "email",
            summary: "Send a password-reset link (A)(E)",
            sec: Sec::Anonymous,
            body: Encrypted("EmailBody"),
            ok: vec![(202, ok("Accepted (always).", Some(schema_ref("Accepted"))))],
            errors: &[404, 422],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/auth/password/reset",
            tag: "email",
            summary: "Password-reset link (never consumes the token)",
            sec: Sec::None,
            body: Body::None,
            ok: vec![
                (200, html("A new-password form.")),
                (
                    303,
                    json!({ "description": "Redirect to `email.reset_redirect_url#token=…`." }),
                ),
            ],
            errors: &[404],
            params: vec![query(
                "token",
                json!({ "type": "string" }),
                "The link token.",
            )],
        },
        Op {
            method: "POST",
            path: "/v1/auth/password/reset",
            tag: "email",
            summary: "Set a new password with a reset token (E)",
            sec: Sec::None,
            body: Form("ResetBody", true),
            ok: vec![
                (
                    204,
                    json!({ "description": "Password changed; all sessions ended." }),
                ),
                (200, html("A result page when the form was posted.")),
            ],
            errors: &[404, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/challenges",
            tag: "challenges",
            summary: "Create a challenge",
            sec: Sec::ApiKey,
            body: J("ChallengeCreate"),
            ok: vec![(201, ok("Created.", Some(schema_ref("ChallengeCreated"))))],
            errors: &[422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/challenges/verify",
            tag: "challenges",
            summary: "Verify a challenge's secret",
            sec: Sec::ApiKey,
            body: J("ChallengeVerify"),
            ok: vec![record()],
            errors: &[404, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/challenges/info",
            tag: "challenges",
            summary: "A challenge's record (never the secret)",
            sec: Sec::ApiKey,
            body: J("ChallengeSelector"),
            ok: vec![record()],
            errors: &[404, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/challenges/regenerate",
            tag: "challenges",
            summary: "Issue a new secret of the same kind",
            sec: Sec::ApiKey,
            body: J("ChallengeSelector"),
            ok: vec![(
                200,
                ok("The new secret.", Some(schema_ref("ChallengeRegenerated"))),
            )],
            errors: &[404, 422],
            params: vec![],
        },
        Op {
            method: "POST",
            path: "/v1/challenges/remove",
            tag: "challenges",
            summary: "Remove a challenge",
            sec: Sec::ApiKey,
            body: J("ChallengeSelector"),
            ok: vec![none(204, "Removed.")],
            errors: &[404, 422],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/admin/users",
            tag: "admin",
            summary: "List users",
            sec: Sec::Admin,
            body: Body::None,
            ok: vec![(200, ok("A page of users.", Some(schema_ref("UserPage"))))],
            errors: &[422],
            params: vec![
                query(
                    "email",
                    json!({ "type": "string" }),
                    "Exact email, case-insensitive.",
                ),
                limit.clone(),
                after("Cursor: the previous page's `next`."),
            ],
        },
        Op {
            method: "POST",
            path: "/v1/admin/users",
            tag: "admin",
            summary: "Create a user",
            sec: Sec::Admin,
            body: J("CreateUserBody"),
            ok: vec![admin_user(201)],
            errors: &[409, 422],
            params: vec![],
        },
        Op {
            method: "GET",
            path: "/v1/admin/users/{id}",
            tag: "admin",
            summary: "One user",
            sec: Sec::Admin,
            body: Body::None,
            ok: vec![admin_user(200)],
            errors: &[404],
            params: vec![path_id("User id.")],
        },
        Op {
            method: "PATCH",
            path: "/v1/admin/users/{id}",
            tag: "admin",
            summary: "Update a user",
            sec: Sec::Admin,
            body: J("PatchUserBody"),
            ok: vec![admin_user(200)],
            errors: &[404, 409, 422],
            params: vec![path_id("User id.")],
        },
        Op {
            method: "DELETE",
            path: "/v1/admin/users/{id}",
            tag: "admin",
            summary: "Delete a user",
            sec: Sec::Admin,
            body: Body::None,
            ok: vec![none(204, "Deleted.")],
            errors: &[404],
            params: vec![path_id("User id.")],
        },
        Op {
            method: "POST",
            path: "/v1/admin/users/{id}/logout",
            tag: "admin",
            summary: "End every session of a user",
            sec: Sec::Admin,
            body: Body::None,
            ok: vec![none(204, "Sessions ended.")],
            errors: &[404],
            params: vec![path_id("User id.")],
        },
        Op {
            method: "GET",
            path: "/v1/admin/audit",
            tag: "admin",
            summary: "Audit events",
            sec: Sec::Admin,
            body: Body::None,
            ok: vec![(200, ok("A page of events.", Some(schema_ref("AuditPage"))))],
            errors: &[422],
            params: vec![
                query("user_id", json!({ "type": "string" }), "Only this user's."),
                query("kind", json!({ "type": "string" }), "Only this kind."),
                limit,
                after("Cursor: the previous page's `next`."),
            ],
        },
    ]
}

/// The statuses every API operation can answer with an error, whatever it
/// does: rate limits and overload.
const ALWAYS: &[u16] = &[429, 503];
/// The statuses any request body can give.
const BODY: &[u16] = &[400, 413, 415, 422];

fn operation(op: &Op) -> Value {
    let mut responses = Map::new();
    for (status, answer) in &op.ok {
        responses.insert(status.to_string(), answer.clone());
    }
    let mut errors: Vec<u16> = op.errors.to_vec();
    errors.extend_from_slice(op.sec.errors());
    if !matches!(op.body, Body::None) {
        errors.extend_from_slice(BODY);
    }
    if op.path.starts_with("/v1/") {
        errors.extend_from_slice(ALWAYS);
    }
    errors.sort_unstable();
    errors.dedup();
    // A posted HTML form gets its errors as a page, a JSON body as problem+json.
    let kind = if matches!(op.body, Body::Form(..)) {
        "F"
    } else {
        "E"
    };
    for status in errors {
        responses.insert(
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/{kind}{status}") }),
        );
    }
    let operation_id = format!(
        "{}{}",
        op.method.to_lowercase(),
        op.path
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .map(|s| format!("_{s}"))
            .collect::<String>()
    );
    let mut value = json!({
        "tags": [op.tag],
        "summary": op.summary,
        "operationId": operation_id,
        "responses": responses,
    });
    if let Some(body) = request_body(&op.body) {
        value["requestBody"] = body;
    }
    if !op.params.is_empty() {
        value["parameters"] = Value::Array(op.params.clone());
    }
    if let Some(security) = op.sec.requirement() {
        value["security"] = security;
    }
    value
}

fn error_response(status: u16, description: &str) -> Value {
    let mut headers = Map::new();
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
        "content": { "application/problem+json": { "schema": schema_ref("Problem") } }
    });
    if !headers.is_empty() {
        response["headers"] = Value::Object(headers);
    }
    response
}

fn components() -> Value {
    let string = json!({ "type": "string" });
    let rsa_key = json!({
        "type": "object",
        "required": ["kid", "alg", "enc", "pem", "jwk"],
        "properties": {
            "kid": string, "alg": { "type": "string", "enum": ["RSA-OAEP-256"] },
            "enc": { "type": "string", "enum": ["A256GCM"] },
            "pem": string, "jwk": { "type": "object" }
        }
    });
    let error_codes: &[(u16, &str)] = &[
        (400, "Malformed JSON or JWE: `malformed_body`, `invalid_encryption`, `encryption_required`, `invalid_token` (link and challenge tokens)."),
        (401, "Missing or bad credentials: `unauthenticated`, `invalid_token`, `token_expired`, `token_reused`, `invalid_credentials`, `anonymous_token_required`."),
        (403, "Not allowed: `forbidden`, `already_authenticated`, `email_not_confirmed`, `wrong_password`, `control_mismatch`, `registration_closed`."),
        (404, "`not_found`, `feature_disabled`, `challenge_not_found`."),
        (409, "`email_taken`, `conflict`."),
        (413, "`body_too_large`."),
        (415, "`unsupported_media_type`."),
        (422, "`validation_failed` (with `errors`), `weak_password`."),
        (429, "`rate_limited`, `throttled` (with `Retry-After` and `retry_after`)."),
        (503, "`overloaded`, `storage_unavailable` (with `Retry-After`)."),
    ];
    let mut responses = Map::new();
    for (status, description) in error_codes {
        let problem = error_response(*status, description);
        let mut page = problem.clone();
        page["content"]["text/html"] = json!({ "schema": { "type": "string" } });
        page["description"] = json!(format!("{description} A posted form gets an HTML page."));
        responses.insert(format!("E{status}"), problem);
        responses.insert(format!("F{status}"), page);
    }
    let mut document = json!({
        "securitySchemes": {
            "bearer_jwt": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An access token, or an anonymous token where (A) applies."
            },
            "api_key": {
                "type": "http", "scheme": "bearer", "bearerFormat": "tk_…",
                "description": "An API key (`toktok api-key create`), sent as `Authorization: Bearer tk_…`."
            }
        },
        "responses": responses,
        "schemas": {
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details.",
                "required": ["type", "title", "status", "code"],
                "properties": {
                    "type": { "type": "string", "examples": ["urn:toktok:invalid_token"] },
                    "title": string,
                    "status": { "type": "integer" },
                    "code": string,
                    "detail": string,
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object", "required": ["field", "message"],
                            "properties": { "field": string, "message": string }
                        }
                    },
                    "retry_after": { "type": "integer", "minimum": 0 }
                }
            },
            "Jwe": {
                "type": "string",
                "description": "JWE compact serialization (`alg` RSA-OAEP-256, `enc` A256GCM, optional `kid`) whose plaintext is the JSON body. Accepted when RSA is on.",
                "pattern": "^[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*$"
            },
            "Health": {
                "type": "object", "required": ["status", "version"],
                "properties": { "status": { "type": "string", "enum": ["ok"] }, "version": string }
            },
            "Jwks": {
                "type": "object", "required": ["keys"],
                "properties": { "keys": { "type": "array", "items": { "type": "object" } } }
            },
            "Readiness": {
                "type": "object", "required": ["status"],
                "properties": {
                    "status": { "type": "string", "enum": ["ready", "unavailable"] },
                    "reason": string
                }
            },
            "Settings": {
                "type": "object",
                "required": ["anonymous", "rsa", "email", "password", "registration_open"],
                "properties": {
                    "anonymous": { "type": "object", "properties": {
                        "enabled": { "type": "boolean" }, "required": { "type": "boolean" } } },
                    "rsa": { "type": "object", "properties": {
                        "enabled": { "type": "boolean" }, "required": { "type": "boolean" } } },
                    "email": { "type": "object", "properties": {
                        "enabled": { "type": "boolean" },
                        "confirmation_required": { "type": "boolean" } } },
                    "password": { "type": "object", "properties": {
                        "min_length": { "type": "integer" }, "max_length": { "type": "integer" } } },
                    "registration_open": { "type": "boolean" }
                }
            },
            "PublicKey": rsa_key,
            "ConfirmationSent": {
                "type": "object", "required": ["user", "confirmation_sent"],
                "properties": { "user": schema_ref("User"), "confirmation_sent": { "type": "boolean", "enum": [true] } }
            },
            "Accepted": { "type": "object" },
            "SessionList": {
                "type": "object", "required": ["sessions"],
                "properties": { "sessions": { "type": "array", "items": schema_ref("Session") } }
            }
        }
    });
    #[allow(clippy::expect_used)] // `document` is the object literal just above
    let schemas = document["schemas"].as_object_mut().expect("an object");
    for more in [challenge_and_admin_schemas()] {
        if let Value::Object(more) = more {
            schemas.extend(more);
        }
    }
    document
}

fn challenge_and_admin_schemas() -> Value {
    let string = json!({ "type": "string" });
    let boolean = json!({ "type": "boolean" });
    let secret_length = json!({ "type": "integer", "minimum": 1, "maximum": 256 });
    let any = any_json();
    let selector = |extra: Value| {
        let mut p = json!({
            "uid": string, "action": string, "id": string, "token": string, "secret": string
        });
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(extra.clone());
        }
        json!({ "type": "object", "additionalProperties": false, "properties": p })
    };
    json!({
                "ChallengeCreate": {
                    "type": "object", "additionalProperties": false, "required": ["action", "id"],
                    "properties": {
                        "action": { "type": "string", "minLength": 1, "maxLength": 256 },
                        "id": { "type": "string", "minLength": 1, "maxLength": 256 },
                        "ttl": { "type": "integer", "minimum": 0 },
                        "throttle": { "oneOf": [
                            { "type": "boolean", "enum": [true] }, { "type": "integer", "minimum": 0 }
                        ]},
                        "metadata": any,
                        "secret": { "oneOf": [
                            { "type": "boolean" },
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
                        "regenerate": { "type": "boolean" }
                    }
                },
                "ChallengeVerify": selector(json!({
                    "erase": { "type": "boolean" },
                    "log": any,
                    "control": {
                        "type": "object",
                        "properties": { "id": string, "action": string }
                    }
                })),
                "ChallengeSelector": selector(json!({})),
    })
}

/// The schemas derived from the Rust types that (de)serialise the bodies
/// (`#[derive(utoipa::ToSchema)]`), by component name: a field added,
/// renamed or retyped there changes the document with it.
fn derived_schemas() -> Vec<(String, Value)> {
    use utoipa::ToSchema;
    fn entry<T: ToSchema>() -> (String, Value) {
        #[allow(clippy::expect_used)] // a derived schema is plain data; tests build every one
        let mut schema = serde_json::to_value(T::schema()).expect("a derived schema serialises");
        spell_out_any(&mut schema);
        (T::name().into_owned(), schema)
    }
    use crate::accounts::{admin, anonymous, tokens, SessionView, UserView};
    use crate::challenge;
    use crate::http::{admin as admin_http, auth, email, users};
    vec![
        // Answers.
        entry::<UserView>(),
        entry::<tokens::TokenResponse>(),
        entry::<SessionView>(),
        entry::<anonymous::AnonymousToken>(),
        entry::<admin::AdminUserView>(),
        entry::<admin::UserPage>(),
        entry::<admin::AuditView>(),
        entry::<admin::AuditPage>(),
        entry::<challenge::Created>(),
        entry::<challenge::Regenerated>(),
        entry::<challenge::Record>(),
        // Request bodies.
        entry::<auth::RegisterBody>(),
        entry::<auth::LoginBody>(),
        entry::<auth::RefreshBody>(),
        entry::<email::TokenBody>(),
        entry::<email::EmailBody>(),
        entry::<email::ResetBody>(),
        entry::<email::ChangeEmailBody>(),
        entry::<users::PatchMeBody>(),
        entry::<users::ChangePasswordBody>(),
        entry::<users::DeleteMeBody>(),
        entry::<admin_http::CreateUserBody>(),
        entry::<admin_http::PatchUserBody>(),
    ]
}

/// utoipa writes a `serde_json::Value` field as a schema without a type
/// (`{}`, or just a description), which its own model cannot read back:
/// give such schemas every type, as [`any_json`] does.
fn spell_out_any(schema: &mut Value) {
    const SHAPES: [&str; 6] = ["type", "$ref", "allOf", "oneOf", "anyOf", "enum"];
    let Value::Object(map) = schema else { return };
    if !SHAPES.iter().any(|k| map.contains_key(*k)) {
        map.insert("type".into(), any_json()["type"].clone());
    }
    for key in ["properties"] {
        if let Some(Value::Object(properties)) = map.get_mut(key) {
            properties.values_mut().for_each(spell_out_any);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner @ Value::Object(_)) = map.get_mut(key) {
            spell_out_any(inner);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(alternatives)) = map.get_mut(key) {
            alternatives.iter_mut().for_each(spell_out_any);
        }
    }
}

/// Marks every optional property of a request body's schema as nullable:
/// toktok reads `"field": null` in a request exactly as a missing field.
fn null_means_absent(schema: &mut Value) {
    let required = schema["required"].clone();
    let required = required.as_array().map(Vec::as_slice).unwrap_or_default();
    let Some(properties) = schema["properties"].as_object_mut() else {
        return;
    };
    for (name, property) in properties {
        if required.iter().any(|r| r == name.as_str()) {
            continue;
        }
        if let Some(Value::String(t)) = property.get("type").cloned() {
            property["type"] = json!([t, "null"]);
        } else if let Some(Value::Array(types)) = property.get_mut("type") {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
        } else if let Some(Value::Array(alternatives)) = property.get_mut("oneOf") {
            let null = json!({ "type": "null" });
            if !alternatives.contains(&null) {
                alternatives.push(null);
            }
        } else if property.get("$ref").is_some() {
            *property = json!({ "oneOf": [property.clone(), { "type": "null" }] });
        }
        if let Some(Value::Array(values)) = property.get_mut("enum") {
            if !values.contains(&Value::Null) {
                values.push(Value::Null);
            }
        }
    }
}

/// The document as JSON.
pub fn document_json() -> Value {
    let mut components = components();
    for (name, schema) in derived_schemas() {
        components["schemas"][name] = schema;
    }
    let mut paths = Map::new();
    for op in operations() {
        if let Body::Json(name) | Body::Encrypted(name) | Body::Form(name, _) = op.body {
            null_means_absent(&mut components["schemas"][name]);
        }
        let item = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        item[op.method.to_lowercase()] = operation(&op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "toktok",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A self-hosted authentication server. The contract is API.md; (A) marks endpoints that need an anonymous token when `[anonymous] required = true`, (E) those that also accept an RSA-encrypted `application/jose` body. `/metrics` is not on this port: it is served on its own listener (`metrics.listen`, loopback by default).",
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" }
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": components,
    })
}

/// The OpenAPI 3.1 document of every route in [`crate::router::ROUTES`].
#[allow(clippy::expect_used)] // a fixed document, parsed by every test run
pub fn document() -> OpenApi {
    serde_json::from_value(document_json()).expect("the OpenAPI document is well-formed")
}

/// `GET /openapi.json`.
pub async fn serve() -> Json<OpenApi> {
    Json(document())
}

/// The Content-Security-Policy of `/docs`: everything from this origin
/// only (the vendored bundle, the document, "Try it out" requests), images
/// also as `data:` URIs (Swagger UI's icons), inline styles (Swagger UI
/// sets style attributes), no plugins, no framing (TT-12).
pub const DOCS_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The Swagger UI router (`/docs`, `/docs/`, `/docs/{*rest}`), assets from
/// the binary, pointing at [`DOCUMENT_PATH`]; an empty router when
/// `server.docs = false` (`/openapi.json` is served either way: it holds
/// nothing that the binary's `toktok openapi` does not print).
///
/// Its answers carry the protective headers of the link pages (TT-12):
/// `X-Frame-Options: DENY` and [`DOCS_CSP`] against framing, `nosniff`,
/// `no-referrer`. `persistAuthorization` is off, so a token or API key
/// pasted into "Authorize" lives only as long as the tab and never reaches
/// localStorage.
pub fn swagger_ui<S: Clone + Send + Sync + 'static>(enabled: bool) -> axum::Router<S> {
    use axum::http::{header, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;

    if !enabled {
        return axum::Router::new();
    }
    let config = utoipa_swagger_ui::Config::from(DOCUMENT_PATH)
        .try_it_out_enabled(true)
        .persist_authorization(false);
    let router: axum::Router<S> = utoipa_swagger_ui::SwaggerUi::new(DOCS_PATH)
        .config(config)
        .into();
    let headers = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_schema_is_not_also_written_by_hand() {
        let written = components();
        for (name, _) in derived_schemas() {
            assert!(
                written["schemas"].get(&name).is_none(),
                "{name} is derived from its type; drop the hand-written copy"
            );
        }
    }
}
