//! The `errors` list of a 422 for the user-supplied fields every account
//! route shares — `name`, `metadata`, `app_metadata` — pinned whole: which
//! fields, in which order, with which message, on register, a profile edit,
//! and the admin's create and edit (docs/API.md "Errors", "User object").

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, PASSWORD};

/// The `errors` of a 422 `validation_failed`, as (field, message) pairs.
async fn field_errors(res: Response) -> Vec<(String, String)> {
    let body = assert_problem(res, 422, "validation_failed").await;
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().expect("string").to_owned();
            (text("field"), text("message"))
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect()
}

/// A document whose compact JSON form is `len` bytes.
fn document_of(len: usize) -> Value {
    json!({ "k": "x".repeat(len - 8) })
}

const LONG: &str = "must be at most 256 characters";
const CONTROL: &str = "must not contain control characters";
const OBJECT: &str = "must be a JSON object";
const LARGE: &str = "must be at most 16384 bytes";

#[tokio::test]
async fn register_reports_every_bad_field_in_order() {
    let app = spawn_app().await;
    let body = json!({
        "email": "f@example.com",
        "password": PASSWORD,
        "name": "n".repeat(257),
        "metadata": [1],
    });
    let res = app.post("/v1/auth/register", body).await;
    assert_eq!(
        field_errors(res).await,
        pairs(&[("name", LONG), ("metadata", OBJECT)])
    );
    // At the limits, both pass.
    let body = json!({
        "email": "f@example.com",
        "password": PASSWORD,
        "name": "é".repeat(256),
        "metadata": document_of(16 * 1024),
    });
    let res = app.post("/v1/auth/register", body).await;
    assert_eq!(res.status().as_u16(), 201);
}

#[tokio::test]
async fn a_profile_edit_reports_name_then_metadata() {
    let app = spawn_app().await;
    let tokens = app.signed_up("p@example.com").await;
    let body = json!({ "name": "two\nlines", "metadata": document_of(16 * 1024 + 1) });
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&tokens.access),
            Some(body),
        )
        .await;
    assert_eq!(
        field_errors(res).await,
        pairs(&[("name", CONTROL), ("metadata", LARGE)])
    );
    // `null` clears the name; nothing was stored by the refused edit.
    let body = json!({ "name": null });
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&tokens.access),
            Some(body),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let me: Value = res.json().await.expect("json");
    assert_eq!((&me["name"], &me["metadata"]), (&json!(null), &json!({})));
}

#[tokio::test]
async fn the_admin_routes_report_each_document_under_its_own_name() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let body = json!({
        "email": "a@example.com",
        "metadata": "x",
        "app_metadata": document_of(16 * 1024 + 1),
    });
    let res = app
        .request(Method::POST, "/v1/admin/users", Some(&key), Some(body))
        .await;
    assert_eq!(
        field_errors(res).await,
        pairs(&[("metadata", OBJECT), ("app_metadata", LARGE)])
    );

    let tokens = app.signed_up("b@example.com").await;
    let me: Value = app
        .get_auth("/v1/users/me", &tokens.access)
        .await
        .json()
        .await
        .expect("json");
    let path = format!("/v1/admin/users/{}", me["id"].as_str().expect("id"));
    let body = json!({
        "role": "",
        "name": "\u{7}bell",
        "metadata": [],
        "app_metadata": 1,
    });
    let res = app
        .request(Method::PATCH, &path, Some(&key), Some(body))
        .await;
    let errors = field_errors(res).await;
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["role", "name", "metadata", "app_metadata"]);
    assert_eq!(
        errors[1..],
        pairs(&[
            ("name", CONTROL),
            ("metadata", OBJECT),
            ("app_metadata", OBJECT)
        ])
    );
}
