//! Passkeys (docs/API.md "Sign-in beyond passwords"): registration,
//! discoverable sign-in, rename and remove, against a software
//! authenticator (`authenticator.rs`) — and the attacks: another rp_id or
//! origin, a wrong challenge, a replayed flow, a counter going backwards,
//! someone else's passkey. Renaming and removing: `manage.rs`.

mod manage;
mod rs256;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::authenticator::Authenticator;
use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp, Tokens};

/// The claims of an access token (not verified: the server made it).
pub(super) fn claims(access: &str) -> Value {
    let payload = access.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub(super) async fn post_auth(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    app.request(Method::POST, path, Some(token), Some(body))
        .await
}

/// Registers a passkey made by `authn` for the session `access`; the view.
pub(crate) async fn register(app: &TestApp, access: &str, authn: &mut Authenticator) -> Value {
    let res = post_auth(app, "/v1/users/me/passkeys/options", access, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let credential = authn.create(&body["options"]);
    let res = post_auth(
        app,
        "/v1/users/me/passkeys",
        access,
        json!({ "flow_id": body["flow_id"], "credential": credential }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

/// Discoverable sign-in options: (flow_id, options).
pub(crate) async fn sign_in_options(app: &TestApp) -> (String, Value) {
    let res = app.post("/v1/auth/passkey/options", json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    (
        body["flow_id"].as_str().unwrap().to_owned(),
        body["options"].clone(),
    )
}

pub(crate) async fn sign_in_with(
    app: &TestApp,
    flow_id: &str,
    credential: Value,
) -> reqwest::Response {
    app.post(
        "/v1/auth/passkey",
        json!({ "flow_id": flow_id, "credential": credential }),
    )
    .await
}

/// A whole discoverable sign-in by `authn`.
pub(crate) async fn sign_in(app: &TestApp, authn: &mut Authenticator) -> reqwest::Response {
    let (flow_id, options) = sign_in_options(app).await;
    let credential = authn.get(&options);
    sign_in_with(app, &flow_id, credential).await
}

/// A user with a password and one device-bound passkey (UV), and an aal 2
/// session signed in with it.
pub(crate) async fn with_passkey(app: &TestApp, email: &str) -> (Authenticator, Value, Tokens) {
    let t = app.signed_up(email).await;
    let mut authn = Authenticator::for_config(&app.state.config);
    let view = register(app, &t.access, &mut authn).await;
    let res = sign_in(app, &mut authn).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens = Tokens::from(res.json::<Value>().await.unwrap());
    (authn, view, tokens)
}

pub(super) async fn audit_count(app: &TestApp, kind: &str) -> i64 {
    app.sql_count(&format!(
        "SELECT count(*) FROM audit_events WHERE kind = '{kind}'"
    ))
    .await
}

#[tokio::test]
async fn registration_options_are_what_a_browser_parses() {
    let app = spawn_app().await;
    let t = app.signed_up("opt@example.com").await;
    let res = post_auth(&app, "/v1/users/me/passkeys/options", &t.access, json!({})).await;
    let body: Value = res.json().await.unwrap();
    let options = &body["options"];
    assert!(body["flow_id"].as_str().unwrap().len() > 20);
    assert!(options.get("publicKey").is_none(), "no wrapper: {options}");
    assert_eq!(options["rp"]["id"], "127.0.0.1");
    let user_id = t.body["user"]["id"].as_str().unwrap();
    let handle = URL_SAFE_NO_PAD
        .decode(options["user"]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        uuid::Uuid::from_slice(&handle).unwrap().to_string(),
        user_id
    );
    assert_eq!(options["user"]["name"], "opt@example.com");
    assert_eq!(options["attestation"], "none");
    let selection = &options["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "preferred");
    assert_eq!(selection["userVerification"], "preferred");
    assert!(options["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .contains(&json!({ "type": "public-key", "alg": -7 })));
    assert_eq!(options["excludeCredentials"], json!([]));
    assert!(!options.to_string().contains("null"));
    // With a passkey, the next options exclude it.
    let mut authn = Authenticator::for_config(&app.state.config);
    let view = register(&app, &t.access, &mut authn).await;
    let session = sign_in(&app, &mut authn)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let access = session["access_token"].as_str().unwrap();
    let body: Value = post_auth(&app, "/v1/users/me/passkeys/options", access, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let excluded = body["options"]["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded.len(), 1);
    let stored = app
        .sql(&format!(
            "SELECT credential_id FROM passkeys WHERE id = '{}'",
            view["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(excluded[0]["id"], stored[0][0].as_str());
}

#[tokio::test]
async fn registering_stores_the_passkey_audits_and_mails() {
    let app = spawn_app().await;
    let t = app.signed_up("reg@example.com").await;
    let mut authn = Authenticator::for_config(&app.state.config).synced();
    let view = register(&app, &t.access, &mut authn).await;
    assert_eq!(view["backed_up"], true);
    assert_eq!(view["last_used_at"], Value::Null);
    assert!(view["name"].as_str().unwrap().starts_with("Passkey ("));
    assert!(view["created_at"].as_str().unwrap().ends_with('Z'));
    let id = view["id"].as_str().unwrap();
    let row = app
        .sql(&format!(
            "SELECT user_id, sign_count, backup_eligible, backed_up FROM passkeys WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(row[0][0], t.body["user"]["id"].as_str().unwrap());
    assert_eq!(row[0][1], "0");
    assert!(
        row[0][2] == "1" || row[0][2] == "t" || row[0][2] == "true",
        "{row:?}"
    );
    assert_eq!(audit_count(&app, "passkey.added").await, 1);
    let queued = app
        .sql_count("SELECT count(*) FROM outbox WHERE kind = 'passkey_added_notice'")
        .await;
    let delivered = std::fs::read_dir(app.dir.path().join("outbox"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(queued == 1 || delivered > 0, "the notice is queued or sent");
    // The passkey is a second factor now: the password session (aal 1)
    // may not add another one.
    let res = post_auth(&app, "/v1/users/me/passkeys/options", &t.access, json!({})).await;
    assert_problem(res, 403, "reauthentication_required").await;
}

#[tokio::test]
async fn a_registration_flow_is_one_use_and_the_users_own() {
    let app = spawn_app().await;
    let a = app.signed_up("flow-a@example.com").await;
    let b = app.signed_up("flow-b@example.com").await;
    let mut authn = Authenticator::for_config(&app.state.config);
    let body: Value = post_auth(&app, "/v1/users/me/passkeys/options", &a.access, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let credential = authn.create(&body["options"]);
    let answer = json!({ "flow_id": body["flow_id"], "credential": credential });
    // B cannot finish A's flow (and that consumes it).
    let res = post_auth(&app, "/v1/users/me/passkeys", &b.access, answer.clone()).await;
    let refused = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(refused["errors"][0]["field"], "flow_id");
    let res = post_auth(&app, "/v1/users/me/passkeys", &a.access, answer).await;
    let refused = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(refused["errors"][0]["field"], "flow_id");
    // A registration answer for another origin does not verify.
    let body: Value = post_auth(&app, "/v1/users/me/passkeys/options", &a.access, json!({}))
        .await
        .json()
        .await
        .unwrap();
    authn.origin = "https://evil.example".into();
    let credential = authn.create(&body["options"]);
    let res = post_auth(
        &app,
        "/v1/users/me/passkeys",
        &a.access,
        json!({ "flow_id": body["flow_id"], "credential": credential }),
    )
    .await;
    let refused = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(refused["errors"][0]["field"], "credential");
    assert_eq!(app.sql_count("SELECT count(*) FROM passkeys").await, 0);
}

#[tokio::test]
async fn discoverable_sign_in_with_user_verification_is_aal_2() {
    let app = spawn_app().await;
    let (_, view, tokens) = with_passkey(&app, "uv@example.com").await;
    let c = claims(&tokens.access);
    assert_eq!(c["aal"], 2);
    assert_eq!(c["amr"], json!(["hwk", "user"]));
    assert_eq!(tokens.body["user"]["email"], "uv@example.com");
    let id = view["id"].as_str().unwrap();
    let factor = app
        .sql(&format!(
            "SELECT factor FROM sessions WHERE factor = 'passkey:{id}'"
        ))
        .await;
    assert_eq!(factor.len(), 1);
    assert_eq!(audit_count(&app, "login.passkey").await, 1);
    let row = app
        .sql(&format!(
            "SELECT sign_count, last_used_at FROM passkeys WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(row[0][0], "2", "the counter is stored");
    assert_ne!(row[0][1], "NULL");
}

#[tokio::test]
async fn without_user_verification_a_passkey_is_aal_1_and_synced_ones_are_swk() {
    let app = spawn_app().await;
    let t = app.signed_up("nouv@example.com").await;
    let mut authn = Authenticator::for_config(&app.state.config).synced();
    authn.uv = false;
    register(&app, &t.access, &mut authn).await;
    let res = sign_in(&app, &mut authn).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens = Tokens::from(res.json::<Value>().await.unwrap());
    let c = claims(&tokens.access);
    assert_eq!(c["aal"], 1);
    assert_eq!(c["amr"], json!(["swk"]));
    assert_eq!(
        app.sql_count("SELECT count(*) FROM sessions WHERE factor IS NOT NULL")
            .await,
        0
    );
    // The same passkey with user verification: aal 2, still "swk".
    authn.uv = true;
    let res = sign_in(&app, &mut authn).await;
    let c = claims(
        res.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        (c["aal"].clone(), c["amr"].clone()),
        (json!(2), json!(["swk", "user"]))
    );
}

#[tokio::test]
async fn a_passkey_registered_with_user_verification_must_always_verify() {
    let app = spawn_app().await;
    let (mut authn, _, _) = with_passkey(&app, "always@example.com").await;
    authn.uv = false;
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn sign_in_options_reveal_no_account() {
    let app = spawn_app().await;
    let (_, empty) = sign_in_options(&app).await;
    with_passkey(&app, "reveal@example.com").await;
    let (_, options) = sign_in_options(&app).await;
    for o in [&empty, &options] {
        assert_eq!(o["allowCredentials"], json!([]));
        assert_eq!(o["rpId"], "127.0.0.1");
        assert_eq!(o["userVerification"], "preferred");
        let keys: Vec<&String> = o.as_object().unwrap().keys().collect();
        assert_eq!(keys, empty.as_object().unwrap().keys().collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn assertions_for_another_rp_id_origin_or_challenge_are_refused() {
    let app = spawn_app().await;
    let (mut authn, _, _) = with_passkey(&app, "phish@example.com").await;
    authn.rp_id = "evil.example".into();
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    authn.rp_id = "127.0.0.1".into();
    authn.origin = "http://127.0.0.1:9999".into();
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    authn.origin = "http://127.0.0.1:8080".into();
    authn.challenge = Some(vec![7; 32]);
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    authn.challenge = None;
    assert_eq!(sign_in(&app, &mut authn).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_flow_signs_in_once() {
    let app = spawn_app().await;
    let (mut authn, _, _) = with_passkey(&app, "replay@example.com").await;
    let (flow_id, options) = sign_in_options(&app).await;
    let first = authn.get(&options);
    assert_eq!(
        sign_in_with(&app, &flow_id, first.clone()).await.status(),
        StatusCode::OK
    );
    // The same answer again, and a fresh answer to the used flow.
    assert_problem(
        sign_in_with(&app, &flow_id, first).await,
        401,
        "invalid_credentials",
    )
    .await;
    let second = authn.get(&options);
    assert_problem(
        sign_in_with(&app, &flow_id, second).await,
        401,
        "invalid_credentials",
    )
    .await;
    // A flow dies after five minutes, and a made-up one never was.
    let (flow_id, options) = sign_in_options(&app).await;
    app.clock.advance(301);
    let late = authn.get(&options);
    assert_problem(
        sign_in_with(&app, &flow_id, late).await,
        401,
        "invalid_credentials",
    )
    .await;
    let made_up = authn.get(&options);
    assert_problem(
        sign_in_with(&app, "nope", made_up).await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn a_counter_going_backwards_is_refused_and_audited() {
    let app = spawn_app().await;
    let (mut authn, view, _) = with_passkey(&app, "clone@example.com").await;
    assert_eq!(authn.counter, 3);
    authn.counter = 2; // the stored counter is 2: a clone replays an old one
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    let detail = app
        .sql("SELECT detail FROM audit_events WHERE kind = 'passkey.clone_detected'")
        .await;
    assert_eq!(detail.len(), 1);
    assert!(detail[0][0].contains(view["id"].as_str().unwrap()));
    authn.counter = 1;
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    assert_eq!(audit_count(&app, "passkey.clone_detected").await, 2);
    // A counter that drops to 0 is the same signal (WebAuthn §7.2 step 22).
    authn.counter = 0;
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    assert_eq!(audit_count(&app, "passkey.clone_detected").await, 3);
    // The real device, ahead of the stored counter, still works.
    authn.counter = 10;
    assert_eq!(sign_in(&app, &mut authn).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn backup_eligibility_cannot_change() {
    let app = spawn_app().await;
    let (mut authn, _, _) = with_passkey(&app, "be@example.com").await;
    authn.be = true;
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    authn.be = false;
    assert_eq!(sign_in(&app, &mut authn).await.status(), StatusCode::OK);
    // The backed-up state may change, and is stored.
    let t = app.signed_up("bs@example.com").await;
    let mut synced = Authenticator::for_config(&app.state.config).synced();
    synced.bs = false;
    let view = register(&app, &t.access, &mut synced).await;
    assert_eq!(view["backed_up"], false);
    synced.bs = true;
    assert_eq!(sign_in(&app, &mut synced).await.status(), StatusCode::OK);
    let id = view["id"].as_str().unwrap();
    let backed = app
        .sql(&format!("SELECT backed_up FROM passkeys WHERE id = '{id}'"))
        .await;
    assert!(
        matches!(backed[0][0].as_str(), "1" | "t" | "true"),
        "{backed:?}"
    );
}

#[tokio::test]
async fn unknown_credentials_handles_and_disabled_users_are_one_answer() {
    let app = spawn_app().await;
    let (mut authn, _, _) = with_passkey(&app, "one@example.com").await;
    // A credential the server never saw.
    let mut stranger = Authenticator::for_config(&app.state.config);
    let options = json!({ "challenge": "AAAA", "user": { "id": "AQID" } });
    stranger.create(&options);
    assert_problem(
        sign_in(&app, &mut stranger).await,
        401,
        "invalid_credentials",
    )
    .await;
    // Usernameless without a user handle.
    authn.send_user_handle = false;
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    authn.send_user_handle = true;
    // A disabled user.
    app.sql("UPDATE users SET disabled = TRUE WHERE email = 'one@example.com'")
        .await;
    assert_problem(sign_in(&app, &mut authn).await, 401, "invalid_credentials").await;
    // Garbage for a credential.
    let (flow_id, _) = sign_in_options(&app).await;
    let res = sign_in_with(&app, &flow_id, json!({ "id": 1 })).await;
    assert_problem(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn with_webauthn_off_every_passkey_endpoint_is_404() {
    let app = spawn_app_with("[webauthn]\nenabled = false\n").await;
    let t = app.signed_up("off@example.com").await;
    let calls = [
        (Method::POST, "/v1/auth/passkey/options", json!({})),
        (
            Method::POST,
            "/v1/auth/passkey",
            json!({ "flow_id": "x", "credential": {} }),
        ),
        (Method::POST, "/v1/users/me/passkeys/options", json!({})),
        (
            Method::POST,
            "/v1/users/me/passkeys",
            json!({ "flow_id": "x", "credential": {} }),
        ),
        (
            Method::PATCH,
            "/v1/users/me/passkeys/x",
            json!({ "name": "n" }),
        ),
        (Method::DELETE, "/v1/users/me/passkeys/x", Value::Null),
    ];
    for (method, path, body) in calls {
        for token in [None, Some(t.access.as_str())] {
            let body = (!body.is_null()).then(|| body.clone());
            let res = app.request(method.clone(), path, token, body).await;
            assert_problem(res, 404, "feature_disabled").await;
        }
    }
}

#[tokio::test]
async fn the_interface_for_the_mfa_step_binds_the_flow_to_its_user() {
    use toktok::accounts::passkeys::{options_for_user, verify_for_user};
    let app = spawn_app().await;
    let (mut authn, view, _) = with_passkey(&app, "mfa@example.com").await;
    let ann = app
        .state
        .store
        .user_by_id(&view_owner(&app, &view).await)
        .await
        .unwrap()
        .unwrap();
    let bob_t = app.signed_up("mfa-bob@example.com").await;
    let bob_id = bob_t.body["user"]["id"].as_str().unwrap();
    let bob = app.state.store.user_by_id(bob_id).await.unwrap().unwrap();
    let options = options_for_user(&app.state, &ann).await.unwrap();
    let allowed = options.options["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1);
    let answer = authn.get(&options.options);
    // Bob cannot use Ann's flow (and it is gone after the try).
    assert!(
        verify_for_user(&app.state, &bob, &options.flow_id, answer.clone())
            .await
            .is_err()
    );
    assert!(verify_for_user(&app.state, &ann, &options.flow_id, answer)
        .await
        .is_err());
    let options = options_for_user(&app.state, &ann).await.unwrap();
    let answer = authn.get(&options.options);
    let proof = verify_for_user(&app.state, &ann, &options.flow_id, answer)
        .await
        .unwrap();
    assert_eq!(proof.passkey_id, view["id"].as_str().unwrap());
    assert!(proof.user_verified);
    assert_eq!(proof.amr, "hwk");
    // Bob has no passkey: no options.
    assert!(options_for_user(&app.state, &bob).await.is_err());
}

async fn view_owner(app: &TestApp, view: &Value) -> String {
    let id = view["id"].as_str().unwrap();
    app.sql(&format!("SELECT user_id FROM passkeys WHERE id = '{id}'"))
        .await[0][0]
        .clone()
}

#[tokio::test]
async fn passkey_sign_in_is_marked_a_and_takes_an_anonymous_token() {
    let app = spawn_app_with("[anonymous]\nenabled = true\nrequired = true\n").await;
    let res = app.post("/v1/auth/passkey/options", json!({})).await;
    assert_problem(res, 401, "anonymous_token_required").await;
    let body = json!({ "flow_id": "x", "credential": {} });
    assert_problem(
        app.post("/v1/auth/passkey", body).await,
        401,
        "anonymous_token_required",
    )
    .await;
    let anon: Value = app
        .post("/v1/auth/anonymous", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let token = anon["access_token"].as_str().unwrap();
    let res = post_auth(&app, "/v1/auth/passkey/options", token, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// A name may be "" (or blank); WebAuthn needs a display name that is not,
/// so the options use the address instead (Schemathesis found the 500).
#[tokio::test]
async fn a_blank_name_still_gets_registration_options() {
    let app = spawn_app().await;
    let t = app.signed_up("blank@example.com").await;
    for name in ["", "   "] {
        let res = app
            .request(
                Method::PATCH,
                "/v1/users/me",
                Some(&t.access),
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = post_auth(&app, "/v1/users/me/passkeys/options", &t.access, json!({})).await;
        assert_eq!(res.status(), StatusCode::OK, "name {name:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["options"]["user"]["displayName"], "blank@example.com");
    }
}
