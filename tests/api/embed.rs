//! `examples/embed.rs` run for real: toktok merged into another axum
//! program, with its background work, sends mail through SMTP and picks up
//! a key rotated from the command line (issue 17, item 5).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::smtp::{link_in, SmtpSink};

/// The example, compiled here so the test runs its code, not a copy.
#[allow(dead_code)] // its `main` is for `cargo run --example embed`
#[path = "../../examples/embed.rs"]
mod example;

const WAIT: Duration = Duration::from_secs(15);

async fn jwks_kids(client: &reqwest::Client, base: &str) -> Vec<String> {
    let jwks: Value = client
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_embedding_program_sends_mail_and_serves_rotated_keys() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // SQLite whatever the suite runs on: `toktok keys rotate` below reads
    // the same file. The key reloader runs every second.
    let toml = format!(
        "[server]\npublic_url = \"{base}\"\n\
         [database]\npath = {:?}\n\
         [password]\npbkdf2_iterations = 1000\n\
         [jwt]\nkey_reload = \"1s\"\n\
         [email]\nmode = \"smtp\"\nconfirmation_required = true\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"2s\"\n",
        dir.path().join("embed.db").to_string_lossy(),
        sink.port(),
    );
    let config_path = dir.path().join("toktok.toml");
    std::fs::write(&config_path, &toml).unwrap();
    let config = toktok::Config::from_sources(Some(&toml), std::iter::empty()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(example::run(listener, config, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();

    // The host program's own route, beside toktok's.
    let hello = client.get(format!("{base}/hello")).send().await.unwrap();
    assert_eq!(hello.text().await.unwrap(), "hello from the host program");

    // Mail: the outbox worker sends the confirmation through SMTP, with a
    // link to the host program, and the link works.
    let res = client
        .post(format!("{base}/v1/auth/register"))
        .json(&json!({ "email": "host@example.com", "password": "an embedded passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mail = sink.wait_for(1, WAIT).await;
    assert_eq!(mail.len(), 1, "the worker sent the confirmation");
    assert_eq!(mail[0].to, ["host@example.com"]);
    let link = link_in(&mail[0]).expect("a link in the mail");
    assert!(
        link.starts_with(&format!("{base}/v1/auth/confirm-email?token=")),
        "{link}"
    );
    let confirmed = client.get(&link).send().await.unwrap();
    assert!(confirmed.status().is_success(), "{}", confirmed.status());

    // Key rotation: `toktok keys rotate` writes a key to the database; the
    // key reloader brings it into the JWKS within `jwt.key_reload`.
    let before = jwks_kids(&client, &base).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("--config")
        .arg(&config_path)
        .args(["keys", "rotate"])
        .env_remove("TOKTOK_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = Instant::now();
    let after = loop {
        let kids = jwks_kids(&client, &base).await;
        if kids.len() == 2 || start.elapsed() > WAIT {
            break kids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        after.len(),
        2,
        "the rotated key reached the JWKS: {after:?}"
    );
    assert!(after.contains(&before[0]), "the old key still verifies");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    sink.stop().await;
}
