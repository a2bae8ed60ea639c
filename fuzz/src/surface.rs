//! The fuzz targets of issue 26: the parsers the features after issue 9
//! added. Each checks a property, not only that nothing panics:
//!
//! - `oidc_authorize`: any query either parses into a request of the one
//!   registered client, for one of its redirect URIs, with an S256 PKCE
//!   challenge and only its scopes; or is refused, and a refusal that goes
//!   back to the client goes only to a registered redirect URI (never an
//!   open redirect).
//! - `oidc_token`: any token-endpoint body and `Authorization` header: a
//!   known parameter is never taken twice, and Basic credentials are read
//!   only from a Basic header.
//! - `webauthn`: any JSON as a passkey answer, and any client data and
//!   attestation object in a well-formed answer, never register against a
//!   ceremony; a genuine client data with any attestation object never
//!   panics webauthn-rs or toktok's handling.
//! - `import_line`: any NDJSON line either becomes a user with a valid,
//!   lower-case-keyed address, or is refused with a reason code.
//! - `webhook_config`: any URL, event list and description: what passes is
//!   an http(s) URL without userinfo or fragment, known events each once,
//!   and a short description without control characters.
//! - `mail_template`: any template file: refused with a reason, or renders;
//!   a subject never spans lines and an HTML body never carries a value's
//!   markup unescaped, whatever the values.
//! - `catalogue`: any override `.ftl` file: refused with a line inside the
//!   file, or every message formats with the arguments toktok passes.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use toktok::oidc::authorize::{self, AuthorizeError, ClientView};

/// `count` pieces of `data`, split at NUL bytes (the last piece keeps the
/// rest; missing pieces are empty).
fn pieces(data: &[u8], count: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(count, |&b| b == 0).collect();
    out.resize(count, &[]);
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---- oidc_authorize ----

const REDIRECTS: [&str; 2] = ["https://app.example.com/cb", "http://127.0.0.1:9000/cb"];
const SCOPES: [&str; 3] = ["openid", "email", "profile"];

pub fn oidc_authorize(data: &[u8]) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let redirects: Vec<String> = REDIRECTS.iter().map(|s| s.to_string()).collect();
    let scopes: Vec<String> = SCOPES.iter().map(|s| s.to_string()).collect();
    let grants = vec!["authorization_code".to_owned(), "refresh_token".to_owned()];
    let parsed = authorize::parse(&pairs, |id| {
        (id == "app").then_some(ClientView {
            redirect_uris: &redirects,
            scopes: &scopes,
            grant_types: &grants,
        })
    });
    match parsed {
        Ok(request) => {
            assert_eq!(request.client_id, "app");
            assert!(redirects.contains(&request.redirect_uri), "{request:?}");
            assert_eq!(request.code_challenge.len(), 43, "{request:?}");
            assert!(
                request.scopes.iter().all(|s| scopes.contains(s)),
                "{request:?}"
            );
            let given = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v);
            assert_eq!(given("response_type").map(String::as_str), Some("code"));
            assert_eq!(
                given("code_challenge_method").map(String::as_str),
                Some("S256")
            );
            for v in [&request.state, &request.nonce, &request.login_hint]
                .into_iter()
                .flatten()
            {
                assert!(v.len() <= authorize::MAX_PARAM);
            }
        }
        Err(AuthorizeError::Redirect { redirect_uri, .. }) => {
            assert!(
                redirects.contains(&redirect_uri),
                "open redirect: {redirect_uri}"
            );
        }
        Err(_) => {}
    }
}

// ---- oidc_token ----

/// The `Authorization` header up to the first NUL, the body after it.
pub fn oidc_token(data: &[u8]) {
    use toktok::oidc::client_auth::Presented;
    use toktok::oidc::token::Form;
    let [header, body] = pieces(data, 2)[..] else {
        return;
    };
    let header = std::str::from_utf8(header).ok();
    let Ok(form) = Form::parse(body) else {
        return;
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for name in [
        "grant_type",
        "code",
        "code_verifier",
        "refresh_token",
        "client_id",
        "client_secret",
    ] {
        let count = pairs.iter().filter(|(n, _)| n == name).count();
        assert!(count <= 1, "{name} taken from {count} copies");
        let first = pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        assert_eq!(form.get(name), first.filter(|v| !v.is_empty()));
    }
    let presented = Presented::read(header, &form);
    if presented.basic.is_some() {
        assert!(presented.basic_tried);
        let scheme = header
            .and_then(|h| h.split_whitespace().next())
            .unwrap_or("");
        assert!(scheme.eq_ignore_ascii_case("basic"), "{header:?}");
    }
}

// ---- webauthn ----

struct Ceremony {
    rp: toktok::auth::webauthn::Webauthn,
    state: webauthn_rs_core::proto::RegistrationState,
    challenge: String,
    origin: String,
}

fn ceremony() -> &'static Ceremony {
    static CEREMONY: OnceLock<Ceremony> = OnceLock::new();
    CEREMONY.get_or_init(|| {
        let config = toktok::Config::default();
        let rp = toktok::auth::webauthn::Webauthn::from_config(&config)
            .expect("the default relying party")
            .expect("webauthn on by default");
        let (options, state) = rp
            .start_registration(&[7; 16], "ann@example.com", "Ann", Vec::new())
            .expect("registration options");
        let challenge = options["challenge"]
            .as_str()
            .expect("a challenge")
            .to_owned();
        let origin = config.webauthn.origins(&config)[0].clone();
        Ceremony {
            rp,
            state,
            challenge,
            origin,
        }
    })
}

fn answer(client_data: &[u8], attestation: &[u8]) -> Value {
    let id = URL_SAFE_NO_PAD.encode([9u8; 16]);
    json!({
        "id": id, "rawId": id, "type": "public-key", "clientExtensionResults": {},
        "response": {
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
            "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
            "transports": ["internal"],
        },
    })
}

/// Registers `credential` as toktok's handler would: JSON into webauthn-rs's
/// type, then the ceremony's check. `true`: a passkey was made.
fn registers(credential: Value) -> bool {
    use webauthn_rs_core::proto::{PublicKeyCredential, RegisterPublicKeyCredential};
    let _ = serde_json::from_value::<PublicKeyCredential>(credential.clone());
    let Ok(response) = serde_json::from_value::<RegisterPublicKeyCredential>(credential) else {
        return false;
    };
    let c = ceremony();
    c.rp.finish_registration(&response, &c.state).is_ok()
}

/// Mode 0: the bytes as the whole answer. 1: client data and attestation
/// object from the bytes. 2: a genuine client data, the attestation object
/// from the bytes.
pub fn webauthn(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(credential) = serde_json::from_slice::<Value>(rest) {
                assert!(!registers(credential));
            }
        }
        1 => {
            let [client_data, attestation] = pieces(rest, 2)[..] else {
                return;
            };
            assert!(!registers(answer(client_data, attestation)));
        }
        _ => {
            let c = ceremony();
            let client_data = json!({
                "type": "webauthn.create", "challenge": c.challenge,
                "origin": c.origin, "crossOrigin": false,
            });
            let _ = registers(answer(client_data.to_string().as_bytes(), rest));
        }
    }
}

// ---- import_line ----

pub fn import_line(data: &[u8]) {
    use toktok::accounts::import::line;
    match line::parse(data, 1_800_000_000, None) {
        Ok(parsed) => {
            let user = &parsed.row.user;
            assert!(user.email.contains('@'), "{}", user.email);
            let again = toktok::domain::email::Email::parse(&user.email).expect("a valid address");
            assert_eq!(again.normalized(), parsed.row.email_key);
            assert!(!user.email.chars().any(char::is_control));
        }
        Err(refusal) => assert!(!refusal.reason.is_empty()),
    }
}

// ---- webhook_config ----

/// URL, then the events one a line, then the description (NUL-separated).
pub fn webhook_config(data: &[u8]) {
    let [url, events, description] = pieces(data, 3)[..] else {
        return;
    };
    let (url, description) = (text(url), text(description));
    let events: Vec<String> = text(events).lines().map(str::to_owned).collect();
    let description = (!description.is_empty()).then_some(description.as_str());
    let errors = toktok::fuzzing::webhook_fields(&url, &events, description);
    let refused = |field: &str| errors.iter().any(|e| e.field.starts_with(field));
    if !refused("url") {
        let parsed = url::Url::parse(&url).expect("a URL that passed");
        assert!(matches!(parsed.scheme(), "http" | "https"));
        assert!(parsed.username().is_empty() && parsed.password().is_none());
        assert!(parsed.fragment().is_none());
    }
    if !refused("events") {
        assert!(!events.is_empty());
        for (i, e) in events.iter().enumerate() {
            assert!(!events[..i].contains(e));
        }
    }
    if !refused("description") {
        assert!(!description.unwrap_or("").chars().any(char::is_control));
    }
}

// ---- mail_template ----

/// The part (`subject`, `txt`, `html` by the first byte), then the file.
pub fn mail_template(data: &[u8]) {
    let Some((&which, source)) = data.split_first() else {
        return;
    };
    let part = ["subject", "txt", "html"][usize::from(which) % 3];
    let source = text(source);
    let value = "<b x=\"1\">&'\r\nline two";
    match toktok::fuzzing::mail_template(part, &source, value) {
        Err(reason) => assert!(!reason.is_empty()),
        Ok(out) => match part {
            "subject" => assert!(!out.contains('\n') && !out.contains('\r'), "{out:?}"),
            "html" => {
                if !source.contains("<b") {
                    assert!(!out.contains("<b"), "{out:?}");
                }
            }
            _ => {}
        },
    }
}

// ---- catalogue ----

pub fn catalogue(data: &[u8]) {
    let source = text(data);
    match toktok::fuzzing::catalogue_override(&source) {
        Ok(texts) => drop(texts),
        Err((line, reason)) => {
            assert!(!reason.is_empty());
            assert!(
                line >= 1 && line <= source.lines().count() + 1,
                "line {line}"
            );
        }
    }
}
