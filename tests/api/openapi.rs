//! The OpenAPI document, `/openapi.json`, the Swagger UI at `/docs` and
//! `toktok openapi`.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;
use toktok::http::{self, openapi};

use crate::helpers::spawn_app;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if METHODS.contains(&method.as_str()) {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

/// Every (method, path) the router serves, from the one list
/// (`toktok::http::routes`), plus Swagger UI's `GET /docs`.
fn routes() -> BTreeSet<(String, String)> {
    let mut routes: BTreeSet<_> = http::operations()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    routes.insert(("GET".into(), openapi::DOCS_PATH.into()));
    routes
}

fn document() -> Value {
    serde_json::to_value(openapi::document()).unwrap()
}

#[test]
fn the_document_and_the_router_list_the_same_routes() {
    let documented = operations(&document());
    let routed = routes();
    assert_eq!(routed.len(), http::operations().len() + 1, "no duplicates");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
    assert!(routed.contains(&("POST".into(), "/v1/auth/login".into())));
    assert!(routed.contains(&("GET".into(), openapi::DOCUMENT_PATH.into())));
}

/// The live router answers every listed path, with exactly the listed
/// methods: a method it does not serve gets 405 with `Allow` (axum adds
/// HEAD beside GET), a path it does not serve the fallback's 404.
#[tokio::test]
async fn the_router_serves_exactly_the_listed_methods() {
    let app = spawn_app().await;
    let mut by_path: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for (method, path) in routes() {
        by_path.entry(path).or_default().insert(method);
    }
    for (path, methods) in by_path {
        let url = app.url(&path.replace("{id}", "00000000-0000-0000-0000-000000000000"));
        let response = app
            .client
            .request(reqwest::Method::TRACE, url)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "TRACE {path}");
        let allow: BTreeSet<String> = response.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| m != "HEAD")
            .collect();
        assert_eq!(allow, methods, "{path}");
    }
    let unknown = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

/// Every schema reachable in the document, with where it is.
fn schemas<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("type") || map.contains_key("oneOf") {
                out.push((at.clone(), value));
            }
            for (key, inner) in map {
                schemas(inner, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                schemas(inner, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn has_type(schema: &Value, wanted: &str) -> bool {
    match &schema["type"] {
        Value::String(t) => t == wanted,
        Value::Array(ts) => ts.iter().any(|t| t == wanted),
        _ => false,
    }
}

/// The schemas say what the server accepts (issue 17): metadata is an
/// object, emails are emails, tokens are not empty, arrays say what they
/// hold.
#[test]
fn body_schemas_are_as_strict_as_the_server() {
    let document = document();
    let s = &document["components"]["schemas"];
    for (body, field) in [
        ("RegisterBody", "metadata"),
        ("PatchMeBody", "metadata"),
        ("CreateUserBody", "metadata"),
        ("CreateUserBody", "app_metadata"),
        ("PatchUserBody", "metadata"),
        ("PatchUserBody", "app_metadata"),
        ("User", "metadata"),
    ] {
        let schema = &s[body]["properties"][field];
        assert!(has_type(schema, "object"), "{body}.{field}: {schema}");
        assert!(!has_type(schema, "array"), "{body}.{field}: {schema}");
    }
    for (body, field) in [
        ("RegisterBody", "email"),
        ("LoginBody", "email"),
        ("EmailBody", "email"),
        ("ChangeEmailBody", "new_email"),
        ("CreateUserBody", "email"),
    ] {
        let schema = &s[body]["properties"][field];
        assert_eq!(schema["format"], "email", "{body}.{field}");
        assert_eq!(schema["minLength"], 1, "{body}.{field}");
    }
    for (body, field) in [
        ("RefreshBody", "refresh_token"),
        ("TokenBody", "token"),
        ("ResetBody", "token"),
    ] {
        assert_eq!(
            s[body]["properties"][field]["minLength"], 1,
            "{body}.{field}"
        );
    }
    let mut found = Vec::new();
    schemas(&document, String::new(), &mut found);
    for (at, schema) in found {
        if has_type(schema, "array") {
            assert!(
                schema.get("items").is_some(),
                "{at}: an array without items"
            );
        }
    }
}

/// Every operation has an operationId, unique, and every body an example
/// (Swagger UI's "Try it out" starts from it).
#[test]
fn operations_have_ids_and_bodies_have_examples() {
    let document = document();
    let mut ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: operationId {id:?}"
            );
            let Some(json) = operation.pointer("/requestBody/content/application~1json") else {
                continue;
            };
            let name = json["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .unwrap_or_else(|| panic!("{method} {path}: a named body schema"));
            let schema = &document["components"]["schemas"][name];
            assert!(
                schema.get("example").is_some(),
                "{method} {path}: {name} has no example"
            );
        }
    }
}

#[test]
fn every_reference_resolves() {
    let document = document();
    let text = document.to_string();
    for piece in text.split("\"$ref\":\"#/").skip(1) {
        let target = piece.split('"').next().unwrap();
        let pointer = format!("/{target}");
        assert!(
            document.pointer(&pointer).is_some(),
            "unresolved $ref #/{target}"
        );
    }
}

#[test]
fn errors_are_problem_json_and_security_schemes_exist() {
    let document = document();
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer_jwt"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    let problem = &document["components"]["schemas"]["Problem"];
    for field in [
        "type",
        "title",
        "status",
        "code",
        "detail",
        "errors",
        "retry_after",
    ] {
        assert!(
            problem["properties"].get(field).is_some(),
            "Problem.{field}"
        );
    }
    let e401 = &document["components"]["responses"]["E401"];
    assert!(e401["content"].get("application/problem+json").is_some());
    // (E) endpoints accept a JWE as well as JSON.
    let login = &document["paths"]["/v1/auth/login"]["post"];
    assert!(login["requestBody"]["content"]
        .get("application/jose")
        .is_some());
    // Admin accepts an API key or an admin's access token.
    let admin = &document["paths"]["/v1/admin/users"]["get"]["security"];
    assert_eq!(admin.as_array().map(Vec::len), Some(2));
    assert_eq!(document["servers"][0]["url"], "/");
}

#[tokio::test]
async fn the_server_serves_the_document_and_the_swagger_ui() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    // Swagger UI's "Try it out" starts with a body's first media type.
    let login = &text[text.find("\"/v1/auth/login\"").unwrap()..];
    let json = login.find("\"application/json\"").unwrap();
    let jose = login.find("\"application/jose\"").unwrap();
    assert!(json < jose, "application/json comes first");
    let served: Value = serde_json::from_str(&text).unwrap();
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(served, document());

    // `/docs` redirects to `/docs/`, the page; its assets come from the binary.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let docs = no_redirect.get(app.url("/docs")).send().await.unwrap();
    assert!(docs.status().is_redirection(), "{}", docs.status());
    assert_eq!(docs.headers()["location"], "/docs/");
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let content_type = page.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("/openapi.json"));
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    // No Accept-Encoding here (reqwest without its gzip feature): inflated.
    assert!(bundle.headers().get("content-encoding").is_none());
    assert!(bundle.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let plain = bundle.bytes().await.unwrap();
    assert!(plain.len() > 1_000_000, "{}", plain.len());
    assert!(String::from_utf8_lossy(&plain).contains("SwaggerUIBundle"));
    // A browser asks for gzip and gets the bytes packed at build time.
    let packed = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    assert_eq!(packed.headers()["vary"], "accept-encoding");
    let packed = packed.bytes().await.unwrap();
    assert!(
        packed.len() < plain.len() / 3,
        "{} of {}",
        packed.len(),
        plain.len()
    );
    assert_eq!(&packed[..2], &[0x1f, 0x8b], "a gzip stream");
    for asset in [
        "swagger-ui.css",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "index.html",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
    let unknown = app
        .client
        .get(app.url("/docs/swagger-ui.js.map"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

#[test]
fn toktok_openapi_prints_the_same_document_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("openapi")
        .current_dir(dir.path())
        .env_remove("TOKTOK_CONFIG")
        .output()
        .expect("the toktok binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(printed, document());
    assert!(
        !dir.path().join("toktok.db").exists(),
        "no database is created"
    );
}

/// TT-12: `/docs` sends the link pages' protective headers and keeps no
/// credentials in localStorage.
#[tokio::test]
async fn docs_cannot_be_framed_and_keep_no_credentials() {
    let app = spawn_app().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/docs",
        "/docs/",
        "/docs/swagger-initializer.js",
        "/docs/swagger-ui-bundle.js",
    ] {
        let response = no_redirect.get(app.url(path)).send().await.unwrap();
        assert!(response.status().as_u16() < 400, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert_eq!(csp, openapi::DOCS_CSP, "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self';"), "{csp}");
    }
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"persistAuthorization\": false"), "{init}");
    assert!(!init.contains("\"persistAuthorization\": true"), "{init}");
    app.stop().await;
}

#[tokio::test]
async fn server_docs_false_turns_off_the_swagger_ui_but_not_the_document() {
    let app = crate::helpers::spawn_app_with("[server]\ndocs = false\n").await;
    for path in ["/docs", "/docs/", "/docs/swagger-ui-bundle.js"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let document = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), 200);
    app.stop().await;
}
