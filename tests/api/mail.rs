//! The mail outbox against a real SMTP conversation (`smtp::SmtpSink`):
//! delivery, the link's host, retries with back-off, giving up, a stalled
//! relay, restarts, dev mode and mode off. Mail is queued straight through
//! the store, as the account flows do, and the worker is driven with
//! `deliver_due` and the test clock, so no test sleeps through a back-off.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use toktok::challenge::{Control, Lookup, Namespace, VerifyOptions};
use toktok::mail::{
    deliver_due, LinkPath, LinkSpec, MailKind, OutgoingMail, ACTION_CONFIRM, ACTION_RESET,
};
use toktok::store::OutboxRow;

use crate::helpers::{spawn_app_with, spawn_in, TestApp};
use crate::smtp::{link_in, token_of, Mode, SmtpSink};

const PUBLIC_URL: &str = "https://id.example.test";
const WAIT: Duration = Duration::from_secs(10);

/// `[email] mode = "smtp"` against the sink on `port`, with a 1 s timeout
/// and a public URL unlike the test server's own address.
fn smtp_config(port: u16) -> String {
    format!(
        "[server]\npublic_url = \"{PUBLIC_URL}\"\n[email]\nmode = \"smtp\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout = \"1s\"\n"
    )
}

fn reset_mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        kind: MailKind::ResetPassword,
        to: to.to_owned(),
        user_id: None,
        link: Some(LinkSpec {
            action: ACTION_RESET.to_owned(),
            id: "user-0001".to_owned(),
            path: LinkPath::ResetPassword,
            metadata: json!({"purpose": "test"}),
        }),
        vars: json!({}),
        locale: None,
    }
}

async fn enqueue(app: &TestApp, mail: OutgoingMail) {
    app.state
        .store
        .enqueue_mail(mail, app.state.now())
        .await
        .expect("queued");
}

async fn rows(app: &TestApp) -> Vec<OutboxRow> {
    app.state.store.outbox_rows().await.expect("outbox rows")
}

fn metric(app: &TestApp, outcome: &str) -> u64 {
    let text = app.state.metrics.render();
    let prefix = format!("toktok_mail_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.parse().expect("a count"))
}

/// Every `mail.failed` audit event's detail.
async fn failed_events(app: &TestApp) -> Vec<Value> {
    app.sql("SELECT detail FROM audit_events WHERE kind = 'mail.failed' ORDER BY id")
        .await
        .iter()
        .map(|d| serde_json::from_str(&d[0]).expect("json detail"))
        .collect()
}

#[tokio::test]
async fn a_mail_arrives_with_its_recipient_subject_and_a_public_url_link() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    enqueue(&app, reset_mail("ann@example.com")).await;
    deliver_due(&app.state).await;

    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let mail = &got[0];
    assert_eq!(mail.to, ["ann@example.com"]);
    assert_eq!(mail.from, "no-reply@localhost");
    assert_eq!(
        mail.subject().as_deref(),
        Some("Reset your toktok password")
    );
    // E4: the link is built from server.public_url, not from where the
    // server happens to listen.
    let link = link_in(mail).expect("a link in the mail");
    let prefix = format!("{PUBLIC_URL}/v1/auth/password/reset?token=");
    assert!(link.starts_with(&prefix), "{link}");
    assert!(!link.contains(&app.addr.to_string()));

    // The token is a live challenge for exactly that purpose (E7), with the
    // spec's metadata, expiring after email.link_ttl.
    let token = token_of(&link);
    let record = app
        .state
        .challenges
        .verify_in(
            Namespace::Toktok,
            Lookup::Token(token.clone()),
            VerifyOptions {
                control: Some(Control {
                    action: Some(ACTION_RESET.to_owned()),
                    id: Some("user-0001".to_owned()),
                }),
                ..VerifyOptions::default()
            },
            None,
        )
        .await
        .expect("the emailed token verifies");
    assert_eq!(record.metadata, json!({"purpose": "test"}));
    assert_eq!(record.settings["ttl"], json!(86_400));

    // Sent: the row is gone, the metric counted, and the token never
    // touched the database file (E1).
    assert!(rows(&app).await.is_empty());
    assert_eq!(metric(&app, "sent"), 1);
    let dir = app.stop().await;
    for name in ["toktok.db", "toktok.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
            let hay = String::from_utf8_lossy(&bytes);
            assert!(!hay.contains(&token), "{name} holds the raw token");
        }
    }
    sink.stop().await;
}

#[tokio::test]
async fn notify_wakes_the_worker() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    let mut mail = reset_mail("bob@example.com");
    mail.kind = MailKind::ConfirmAccount;
    mail.link = Some(LinkSpec {
        action: ACTION_CONFIRM.to_owned(),
        id: "user-0002".to_owned(),
        path: LinkPath::ConfirmEmail,
        metadata: Value::Null,
    });
    enqueue(&app, mail).await;
    app.state.mailer.as_ref().expect("mail is on").notify();
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "the worker sent it without deliver_due");
    let link = link_in(&got[0]).unwrap();
    assert!(link.starts_with(&format!("{PUBLIC_URL}/v1/auth/confirm-email?token=")));
    assert_eq!(
        got[0].subject().as_deref(),
        Some("Confirm your toktok account")
    );
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn smtp_down_keeps_the_mail_queued_until_it_is_back() {
    let sink = SmtpSink::start().await;
    let port = sink.port();
    sink.stop().await; // the relay is down
    let app = spawn_app_with(&smtp_config(port)).await;
    enqueue(&app, reset_mail("carol@example.com")).await;
    assert_eq!(deliver_due(&app.state).await, 0);

    let queued = rows(&app).await;
    assert_eq!(queued.len(), 1, "the mail is kept");
    assert_eq!(queued[0].attempts, 1);
    assert_eq!(queued[0].failed_at, None);
    let wait = queued[0].next_attempt_at - app.state.now();
    assert!(
        (4..=6).contains(&wait),
        "first retry after 5 s ± 20%: {wait}"
    );
    assert!(queued[0].last_error.is_some());
    assert_eq!(metric(&app, "retry"), 1);

    // Back up: nothing happens before the retry is due, then it is sent.
    let sink = SmtpSink::start_on(port).await;
    deliver_due(&app.state).await;
    assert!(sink.messages().is_empty(), "not before the back-off");
    app.clock.advance(7);
    deliver_due(&app.state).await;
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["carol@example.com"]);
    assert!(rows(&app).await.is_empty());
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn a_temporary_failure_is_retried_with_growing_back_off() {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::TempFail);
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    enqueue(&app, reset_mail("dan@example.com")).await;

    let mut waits = Vec::new();
    for attempt in 1..=3 {
        deliver_due(&app.state).await;
        let row = rows(&app).await.remove(0);
        assert_eq!(row.attempts, attempt);
        assert!(
            row.last_error.as_deref().unwrap_or("").contains("451"),
            "{row:?}"
        );
        let wait = row.next_attempt_at - app.state.now();
        waits.push(wait);
        app.clock.advance(wait);
    }
    // 5 s, 10 s, 20 s, each ± 20%.
    assert!((4..=6).contains(&waits[0]), "{waits:?}");
    assert!((8..=12).contains(&waits[1]), "{waits:?}");
    assert!((16..=24).contains(&waits[2]), "{waits:?}");
    assert!(sink.messages().is_empty());

    sink.set_mode(Mode::Accept);
    deliver_due(&app.state).await;
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
    assert!(rows(&app).await.is_empty());
    assert_eq!(metric(&app, "retry"), 3);
    assert_eq!(metric(&app, "sent"), 1);
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn a_permanent_failure_is_given_up_and_audited() {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::PermFail);
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    enqueue(&app, reset_mail("nobody@example.com")).await;
    deliver_due(&app.state).await;

    let row = rows(&app).await.remove(0);
    assert!(row.failed_at.is_some(), "{row:?}");
    assert_eq!(row.attempts, 1);
    let events = failed_events(&app).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "reset_password");
    assert_eq!(events[0]["attempts"], 1);
    let error = events[0]["error"].as_str().unwrap();
    assert!(error.contains("550"), "{error}");
    assert!(!error.contains("token"), "{error}");
    assert_eq!(metric(&app, "failed"), 1);

    // Never tried again; swept a week later.
    sink.set_mode(Mode::Accept);
    app.clock.advance(3600);
    deliver_due(&app.state).await;
    assert!(sink.messages().is_empty());
    app.clock.advance(7 * 86_400);
    toktok::server::sweep_once(&app.state).await;
    assert!(rows(&app).await.is_empty());
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn an_invalid_address_is_given_up_at_once() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    enqueue(&app, reset_mail("not an address")).await;
    deliver_due(&app.state).await;
    let events = failed_events(&app).await;
    assert_eq!(events.len(), 1);
    assert!(events[0]["error"]
        .as_str()
        .unwrap()
        .contains("invalid recipient"));
    assert_eq!(sink.connections(), 0, "nothing was sent");
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn mail_is_given_up_after_give_up_after() {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::TempFail);
    let config = format!(
        "{}[email]\ngive_up_after = \"1m\"\n",
        smtp_config(sink.port())
    );
    let app = spawn_app_with(&config).await;
    enqueue(&app, reset_mail("erin@example.com")).await;
    let started = app.state.now();
    let mut rounds = 0;
    while failed_events(&app).await.is_empty() {
        rounds += 1;
        assert!(rounds < 20, "never given up");
        deliver_due(&app.state).await;
        if let Some(row) = rows(&app).await.first() {
            if row.failed_at.is_none() {
                // Retries never go past the deadline.
                assert!(row.next_attempt_at <= started + 60, "{row:?}");
                app.clock.set(row.next_attempt_at);
            }
        }
    }
    let events = failed_events(&app).await;
    assert!(events[0]["attempts"].as_i64().unwrap() >= 3, "{events:?}");
    assert!(app.state.now() <= started + 60);
    assert_eq!(metric(&app, "failed"), 1);
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn a_stalled_relay_times_out_and_blocks_nothing() {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::Stall);
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    enqueue(&app, reset_mail("fay@example.com")).await;

    let state = app.state.clone();
    let started = Instant::now();
    let pass = tokio::spawn(async move { deliver_due(&state).await });
    // Requests are answered meanwhile.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let health = app
        .client
        .get(app.url("/health"))
        .send()
        .await
        .expect("health answers");
    assert!(health.status().is_success());
    assert!(!pass.is_finished(), "the relay is stalling the send");

    let sent = tokio::time::timeout(WAIT, pass)
        .await
        .expect("the 1 s smtp.timeout fired")
        .expect("pass task");
    assert_eq!(sent, 0);
    assert!(started.elapsed() < Duration::from_secs(5));
    let row = rows(&app).await.remove(0);
    assert_eq!(row.attempts, 1);
    assert!(
        row.last_error.as_deref().unwrap().contains("no answer"),
        "{row:?}"
    );

    // The relay recovers: the next attempt goes through a fresh connection.
    sink.set_mode(Mode::Accept);
    app.clock.advance(7);
    deliver_due(&app.state).await;
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn mail_of_a_user_deleted_after_the_claim_mints_no_lasting_link() {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::SlowAccept);
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    let tokens = app.signed_up("gone@example.com").await;
    let me: Value = app
        .get_auth("/v1/users/me", &tokens.access)
        .await
        .json()
        .await
        .unwrap();
    let user_id = me["id"].as_str().unwrap().to_owned();
    // Two rows in one batch: the first keeps the worker busy at the relay
    // while the second one's user is deleted.
    enqueue(&app, reset_mail("busy@example.com")).await;
    app.clock.advance(1);
    let mut mail = reset_mail("gone@example.com");
    mail.user_id = Some(user_id.clone());
    mail.link.as_mut().unwrap().id = user_id.clone();
    enqueue(&app, mail).await;

    let key = app.api_key(&["admin"]).await;
    let state = app.state.clone();
    let pass = tokio::spawn(async move { deliver_due(&state).await });
    // The worker is at the relay with the first mail (which takes 400 ms).
    let started = Instant::now();
    while sink.connections() == 0 {
        assert!(
            started.elapsed() < WAIT,
            "the worker never reached the relay"
        );
        tokio::task::yield_now().await;
    }
    let path = format!("/v1/admin/users/{user_id}");
    let res = app
        .request(reqwest::Method::DELETE, &path, Some(&key), None)
        .await;
    assert_eq!(res.status(), 204);
    let sent = tokio::time::timeout(WAIT, pass).await.unwrap().unwrap();

    assert_eq!(sent, 1, "only the first mail goes out");
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(sink.messages()[0].to, ["busy@example.com"]);
    let lookup = Lookup::Pair {
        action: ACTION_RESET.to_owned(),
        id: user_id,
    };
    assert!(
        app.state
            .challenges
            .info_in(Namespace::Toktok, lookup)
            .await
            .is_err(),
        "no link outlives the deleted user"
    );
    assert!(rows(&app).await.is_empty());
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn shutdown_is_prompt_while_the_relay_stalls() {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::Stall);
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    enqueue(&app, reset_mail("gil@example.com")).await;
    app.state.mailer.as_ref().unwrap().notify();
    // Let the worker get stuck in the send.
    let deadline = Instant::now() + WAIT;
    while sink.connections() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sink.connections(), 1);
    let started = Instant::now();
    let dir = app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        started.elapsed()
    );
    drop(dir);
    sink.stop().await;
}

#[tokio::test]
async fn a_queued_mail_is_sent_after_a_restart() {
    let sink = SmtpSink::start().await;
    let port = sink.port();
    sink.stop().await;
    let app = spawn_app_with(&smtp_config(port)).await;
    enqueue(&app, reset_mail("hal@example.com")).await;
    deliver_due(&app.state).await;
    assert_eq!(rows(&app).await[0].attempts, 1);
    let dir = app.stop().await;

    let sink = SmtpSink::start_on(port).await;
    let app = spawn_in(dir, &smtp_config(port)).await;
    assert_eq!(rows(&app).await.len(), 1, "the queue survived the restart");
    app.clock.advance(7);
    deliver_due(&app.state).await;
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["hal@example.com"]);
    assert!(link_in(&got[0]).unwrap().starts_with(PUBLIC_URL));
    assert!(rows(&app).await.is_empty());
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn a_mail_queued_while_mail_was_off_goes_out_on_the_next_start() {
    let app = spawn_app_with("[email]\nmode = \"off\"\n").await;
    assert!(app.state.mailer.is_none(), "mode off: no mailer, no worker");
    enqueue(&app, reset_mail("ivy@example.com")).await;
    assert_eq!(deliver_due(&app.state).await, 0);
    assert_eq!(rows(&app).await[0].attempts, 0, "untouched");
    let dir = app.stop().await;

    let sink = SmtpSink::start().await;
    let app = spawn_in(dir, &smtp_config(sink.port())).await;
    // The worker's first pass at start sends it, unprompted.
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn template_overrides_shape_the_sent_mail() {
    let sink = SmtpSink::start().await;
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("reset_password.subject"),
        "{{app_name}} password help\n",
    )
    .unwrap();
    std::fs::write(
        templates.path().join("reset_password.txt"),
        "Go to {{ link }} within {{expires_in}}.\n",
    )
    .unwrap();
    let config = format!(
        "{}[email]\napp_name = \"Acme ID\"\nlink_ttl = \"2h\"\ntemplates_dir = {:?}\n",
        smtp_config(sink.port()),
        templates.path().to_string_lossy()
    );
    let app = spawn_app_with(&config).await;
    enqueue(&app, reset_mail("jo@example.com")).await;
    deliver_due(&app.state).await;
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got[0].subject().as_deref(), Some("Acme ID password help"));
    let text = &crate::smtp::parts(&got[0])[0].1;
    let link = link_in(&got[0]).unwrap();
    assert_eq!(text.trim_end(), format!("Go to {link} within 2 hours."));
    app.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn a_bad_template_stops_the_start() {
    let templates = tempfile::tempdir().unwrap();
    let file = templates.path().join("confirm_account.html");
    std::fs::write(&file, "<a href=\"{{link}}\">{{ confirm_url }}</a>").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = crate::helpers::test_config(
        dir.path(),
        &format!(
            "[email]\ntemplates_dir = {:?}\n",
            templates.path().to_string_lossy()
        ),
    );
    let e = toktok::App::build(config)
        .await
        .err()
        .expect("start refused");
    let e = format!("{e:#}");
    assert!(e.contains(&file.display().to_string()), "{e}");
    assert!(e.contains("{{confirm_url}}"), "{e}");

    let config = crate::helpers::test_config(
        dir.path(),
        "[email]\ntemplates_dir = \"/nonexistent/toktok-mail\"\n",
    );
    let e = format!("{:#}", toktok::App::build(config).await.err().unwrap());
    assert!(e.contains("/nonexistent/toktok-mail"), "{e}");
}

#[tokio::test]
async fn dev_mode_writes_the_message_and_logs_its_link() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // This test's runtime is single-threaded, so the worker's log lines
    // land in this thread's subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let outbox = tempfile::tempdir().unwrap();
    let config = format!(
        "[server]\npublic_url = \"{PUBLIC_URL}\"\n[email]\nmode = \"dev\"\noutbox_dir = {:?}\n",
        outbox.path().join("mail").to_string_lossy()
    );
    let app = spawn_app_with(&config).await;
    enqueue(&app, reset_mail("kim@example.com")).await;
    // The worker's own first pass may have taken it; either way, once a
    // pass is over the file is there.
    deliver_due(&app.state).await;

    let files: Vec<_> = std::fs::read_dir(outbox.path().join("mail"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().to_string_lossy().into_owned();
    assert!(
        name.ends_with(".eml") && name.contains("-reset_password-"),
        "{name}"
    );
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    let mail = crate::smtp::ReceivedMail {
        from: String::new(),
        to: Vec::new(),
        data: text,
    };
    let link = link_in(&mail).expect("a link in the .eml");
    assert!(link.starts_with(&format!("{PUBLIC_URL}/v1/auth/password/reset?token=")));
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = logged
        .lines()
        .find(|l| l.contains("dev mail written"))
        .unwrap_or_else(|| panic!("no dev-mail log line in:\n{logged}"));
    assert!(line.contains(&link), "{line}");
    assert!(line.contains("kim@example.com") && line.contains("reset_password"));
    assert!(rows(&app).await.is_empty());
    app.stop().await;
}

/// A forgot whose client is gone during the answer floor (the request's
/// future dropped after its mail was queued) still wakes the worker: the
/// mail leaves at once, not at the worker's next idle poll (30 s). The
/// future is polled until its row is stored, given a moment to reach the
/// floor's wait, then dropped; should it answer first (a slow machine),
/// another address tries again.
#[tokio::test]
async fn a_request_abandoned_during_the_answer_floor_still_wakes_the_worker() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    let meta = toktok::accounts::RequestMeta::default();
    let mut made = None;
    for attempt in 0..5 {
        // The earlier attempts answered, so their mails have left.
        assert_eq!(sink.wait_for(attempt, WAIT).await.len(), attempt);
        let email = format!("gus{attempt}@example.com");
        app.signed_up(&email).await;
        let mut forgot = Box::pin(toktok::accounts::email::forgot_password(
            &app.state, &email, &meta,
        ));
        let queued = loop {
            tokio::select! {
                biased;
                _ = &mut forgot => break false,
                () = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
            if !rows(&app).await.is_empty() {
                break true;
            }
        };
        if queued
            && tokio::time::timeout(Duration::from_millis(2), &mut forgot)
                .await
                .is_err()
        {
            drop(forgot);
            made = Some(attempt + 1);
            break;
        }
    }
    let made = made.expect("every forgot answered before it could be dropped");
    assert_eq!(
        sink.wait_for(made, WAIT).await.len(),
        made,
        "the abandoned request's mail waits for the idle poll"
    );
    app.stop().await;
    sink.stop().await;
}
