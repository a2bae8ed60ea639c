//! RS256 passkeys (Windows Hello makes them). toktok verifies them through
//! its copy of crypto-glue (crates/crypto-glue: aws-lc-rs, not the `rsa`
//! crate); the software authenticator signs with ring.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{claims, post_auth, register, sign_in, sign_in_options, sign_in_with};
use crate::authenticator::Authenticator;
use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn an_rs256_passkey_registers_signs_in_and_refuses_a_changed_signature() {
    let app = spawn_app().await;
    let t = app.signed_up("rsa@example.com").await;
    let body: Value = post_auth(&app, "/v1/users/me/passkeys/options", &t.access, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let offered = body["options"]["pubKeyCredParams"].as_array().unwrap();
    assert!(offered.contains(&json!({ "type": "public-key", "alg": -257 })));

    let mut authn = Authenticator::for_config(&app.state.config);
    authn.rsa = true;
    register(&app, &t.access, &mut authn).await;
    let res = sign_in(&app, &mut authn).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], t.body["user"]["id"]);

    // Every bit of the signature counts.
    for bit in [0, 7, 1000, 2047] {
        let (flow_id, options) = sign_in_options(&app).await;
        let mut credential = authn.get(&options);
        let field = &mut credential["response"]["signature"];
        let mut signature = URL_SAFE_NO_PAD.decode(field.as_str().unwrap()).unwrap();
        assert_eq!(signature.len(), 256);
        signature[bit / 8] ^= 0x80 >> (bit % 8);
        *field = Value::from(URL_SAFE_NO_PAD.encode(&signature));
        let res = sign_in_with(&app, &flow_id, credential).await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    // A signature cut short, and the genuine one after all that.
    let (flow_id, options) = sign_in_options(&app).await;
    let mut credential = authn.get(&options);
    credential["response"]["signature"] = Value::from(URL_SAFE_NO_PAD.encode([1u8; 255]));
    assert_problem(
        sign_in_with(&app, &flow_id, credential).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(sign_in(&app, &mut authn).await.status(), StatusCode::OK);
}
