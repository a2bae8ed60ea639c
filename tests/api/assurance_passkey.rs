//! Reauthentication with a passkey (docs/API.md "Sign-in beyond
//! passwords"): needs the `passkeys` branch's endpoints and its software
//! authenticator (tests/api/authenticator.rs, tests/api/passkeys), so this
//! module is registered in tests/api/main.rs once that branch is merged.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::authenticator::Authenticator;
use crate::helpers::{assert_problem, spawn_app, Tokens};

fn claims(token: &str) -> Value {
    crate::passkeys::claims(token)
}

#[tokio::test]
async fn a_passkey_reauthentication_raises_the_session_and_is_bound_to_it() {
    let app = spawn_app().await;
    let t = app.signed_up("pk-re@example.com").await;
    let mut authn = Authenticator::for_config(&app.state.config);
    let view = crate::passkeys::register(&app, &t.access, &mut authn).await;
    let id = view["id"].as_str().unwrap().to_owned();

    let res = app
        .request(
            Method::POST,
            "/v1/auth/reauthenticate/passkey-options",
            Some(&t.access),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let credential = authn.get(&body["options"]);
    let answer = json!({ "flow_id": body["flow_id"], "credential": credential });
    let res = app
        .request(
            Method::POST,
            "/v1/auth/reauthenticate",
            Some(&t.access),
            Some(answer.clone()),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let raised = Tokens::from(res.json::<Value>().await.unwrap());
    let c = claims(&raised.access);
    assert_eq!(c["sid"], claims(&t.access)["sid"]);
    assert_eq!(c["aal"], 2);
    assert_eq!(c["amr"], json!(["pwd", "hwk", "user"]));
    let sid = c["sid"].as_str().unwrap();
    let factor = app
        .sql(&format!("SELECT factor FROM sessions WHERE id = '{sid}'"))
        .await;
    assert_eq!(factor[0][0], format!("passkey:{id}"));
    // A flow answers once.
    let res = app
        .request(
            Method::POST,
            "/v1/auth/reauthenticate",
            Some(&raised.access),
            Some(answer),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    // Removing the passkey ends the session it raised.
    let res = app
        .request(
            Method::DELETE,
            &format!("/v1/users/me/passkeys/{id}"),
            Some(&raised.access),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get_auth("/v1/users/me", &raised.access).await;
    assert_problem(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn without_passkeys_there_are_no_reauthentication_options() {
    let app = spawn_app().await;
    let t = app.signed_up("pk-none@example.com").await;
    let res = app
        .request(
            Method::POST,
            "/v1/auth/reauthenticate/passkey-options",
            Some(&t.access),
            None,
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
}

/// `mfa.required`: the restricted session registers a passkey, then
/// reauthenticates with it, and is restricted no more.
#[tokio::test]
async fn a_restricted_session_enrols_a_passkey_and_lifts_the_restriction() {
    let app = crate::helpers::spawn_app_with("[mfa]\nrequired = true\n").await;
    let t = app.signed_up("pk-must@example.com").await;
    let res = app.get_auth("/v1/users/me/sessions", &t.access).await;
    assert_problem(res, 403, "forbidden").await;
    let mut authn = Authenticator::for_config(&app.state.config);
    crate::passkeys::register(&app, &t.access, &mut authn).await;
    let res = app
        .request(
            Method::POST,
            "/v1/auth/reauthenticate/passkey-options",
            Some(&t.access),
            None,
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let credential = authn.get(&body["options"]);
    let answer = json!({ "flow_id": body["flow_id"], "credential": credential });
    let res = app
        .request(
            Method::POST,
            "/v1/auth/reauthenticate",
            Some(&t.access),
            Some(answer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let raised = Tokens::from(res.json::<Value>().await.unwrap());
    let res = app.get_auth("/v1/users/me/sessions", &raised.access).await;
    assert_eq!(res.status(), StatusCode::OK);
}
