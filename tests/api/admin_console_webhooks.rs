//! The admin console's Webhooks pages (issue 22; docs/admin-console.md),
//! driven like a browser without JavaScript: an endpoint refused for an
//! internal address, then made with its secret shown once; a test event
//! sent and verified with that secret; pause and resume; the secret
//! rotated (the old one stops at once); a delivery sent again with the
//! same `webhook-id`; the endpoint deleted; each action audited with the
//! admin as actor, and every form refusing a missing CSRF token.

use reqwest::StatusCode;

use crate::admin_console::{admin_browser, audited, secret_in, submit, CONSOLE};
use crate::helpers::spawn_app_with;
use crate::webhooks::{deliver, Receiver};

/// `s` as the templates escape it.
fn esc(s: &str) -> String {
    s.replace('/', "&#x2f;")
}

fn unesc(s: &str) -> String {
    s.replace("&#x2f;", "/")
}

const ALL: &[(&str, &str)] = &[("event", "user.created"), ("event", "session.revoked")];

#[tokio::test]
async fn internal_targets_are_refused_on_the_form() {
    let app = spawn_app_with(CONSOLE).await;
    let (mut b, _) = admin_browser(&app).await;
    let mut form = vec![("url", "http://169.254.169.254/latest")];
    form.extend_from_slice(ALL);
    let refused = submit(&mut b, &app, "/admin/webhooks", "/admin/webhooks", &form).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"url-error\""),
        "{}",
        refused.body
    );
    // What was typed comes back, escaped, and nothing was made.
    assert!(refused.body.contains(&format!(
        "value=\"{}\"",
        esc("http://169.254.169.254/latest")
    )));
    let refused = submit(
        &mut b,
        &app,
        "/admin/webhooks",
        "/admin/webhooks",
        &[("url", "https://hooks.example.com/x"), ("event", "nope")],
    )
    .await;
    assert!(
        refused.body.contains("id=\"events-error\""),
        "{}",
        refused.body
    );
    assert_eq!(app.sql_count("SELECT count(*) FROM webhooks").await, 0);
}

#[tokio::test]
async fn an_endpoint_is_made_tested_paused_rotated_retried_and_deleted() {
    let app = spawn_app_with(&format!(
        "{CONSOLE}[hooks]\nallow_private_targets = true\ntimeout = \"1s\"\n"
    ))
    .await;
    let (mut b, admin_id) = admin_browser(&app).await;
    let (r, url) = Receiver::start().await;
    let mut form = vec![("url", url.as_str()), ("description", "billing")];
    form.extend_from_slice(ALL);
    let made = submit(&mut b, &app, "/admin/webhooks", "/admin/webhooks", &form).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let secret = unesc(&secret_in(&made));
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id = app.sql("SELECT id FROM webhooks").await[0][0].clone();
    let list = b.get(&app, "/admin/webhooks").await;
    assert!(list.body.contains(&esc(&url)) && list.body.contains("billing"));
    assert!(!list.body.contains(&esc(&secret)), "shown once");
    let page = format!("/admin/webhooks/{id}");
    assert!(!b.get(&app, &page).await.body.contains(&esc(&secret)));
    assert_eq!(
        audited(&app, "webhook.created").await[0].1,
        format!("user:{admin_id}")
    );

    // A test event, verified with the secret shown.
    let action = |a: &str| format!("/admin/webhooks/{id}/{a}");
    let sent = submit(&mut b, &app, &page, &action("test"), &[]).await;
    assert_eq!(sent.next(), format!("{page}?notice=hook-test-queued"));
    deliver(&app, &r, 1).await;
    let events = r.events(&secret);
    assert_eq!(events[0].0, "webhook.test");
    let shown = b.get(&app, &sent.next()).await;
    assert!(shown.body.contains("A test event is on its way."));
    assert!(shown.body.contains("webhook.test") && shown.body.contains("Delivered"));

    // Paused: the new user's event is not kept for it; resumed: it is.
    let paused = submit(&mut b, &app, &page, &action("pause"), &[]).await;
    assert_eq!(paused.next(), format!("{page}?notice=hook-paused"));
    assert!(b.get(&app, &page).await.body.contains("Paused"));
    app.signed_up("ada@example.com").await;
    let resumed = submit(&mut b, &app, &page, &action("resume"), &[]).await;
    assert_eq!(resumed.next(), format!("{page}?notice=hook-resumed"));
    app.signed_up("bob@example.com").await;
    deliver(&app, &r, 2).await;
    let events = r.events(&secret);
    assert_eq!(events[1].0, "user.created");
    assert_eq!(events[1].1["user"]["email"], "bob@example.com");

    // Rotated: confirmed first; the new secret signs from now on.
    let confirm = b.get(&app, &action("rotate")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let rotated = submit(&mut b, &app, &action("rotate"), &action("rotate"), &[]).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let fresh = unesc(&secret_in(&rotated));
    assert!(fresh.starts_with("whsec_") && fresh != secret);

    // A delivered event sent again: the same webhook-id, the new secret.
    let msg = app
        .sql("SELECT id FROM webhook_deliveries WHERE type = 'webhook.test'")
        .await[0][0]
        .clone();
    let retry = format!("{page}/deliveries/{msg}/retry");
    let again = submit(&mut b, &app, &page, &retry, &[]).await;
    assert_eq!(again.next(), format!("{page}?notice=hook-retried"));
    deliver(&app, &r, 3).await;
    let (headers, body) = r.got.lock().unwrap()[2].clone();
    assert_eq!(headers.get("webhook-id").unwrap().to_str().unwrap(), msg);
    let new = toktok::hooks::signature::SigningSecret::parse(&fresh).unwrap();
    let ts: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        headers["webhook-signature"].to_str().unwrap(),
        new.sign(&msg, ts, &body)
    );

    // Deleted, after its confirmation.
    let gone = submit(&mut b, &app, &action("delete"), &action("delete"), &[]).await;
    assert_eq!(gone.next(), "/admin/webhooks?notice=hook-deleted");
    assert_eq!(app.sql_count("SELECT count(*) FROM webhooks").await, 0);
    assert_eq!(b.get(&app, &page).await.status, StatusCode::NOT_FOUND);
    for kind in ["webhook.updated", "webhook.deleted"] {
        assert!(
            audited(&app, kind)
                .await
                .iter()
                .all(|(_, actor)| *actor == format!("user:{admin_id}")),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn every_webhook_form_refuses_a_missing_csrf_token() {
    let app = spawn_app_with(&format!("{CONSOLE}[hooks]\nallow_private_targets = true\n")).await;
    let (mut b, _) = admin_browser(&app).await;
    let (_, url) = Receiver::start().await;
    let mut form = vec![("url", url.as_str())];
    form.extend_from_slice(ALL);
    submit(&mut b, &app, "/admin/webhooks", "/admin/webhooks", &form).await;
    let id = app.sql("SELECT id FROM webhooks").await[0][0].clone();
    let audits = app.sql_count("SELECT COUNT(*) FROM audit_events").await;
    for route in [
        "/admin/webhooks".to_owned(),
        format!("/admin/webhooks/{id}/test"),
        format!("/admin/webhooks/{id}/pause"),
        format!("/admin/webhooks/{id}/rotate"),
        format!("/admin/webhooks/{id}/delete"),
        format!("/admin/webhooks/{id}/deliveries/msg_x/retry"),
    ] {
        let page = b.post(&app, &route, &form).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{route}: {}", page.body);
    }
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM audit_events").await,
        audits
    );
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM webhook_deliveries")
            .await,
        0
    );
}
