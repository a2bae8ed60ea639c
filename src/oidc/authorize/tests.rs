use super::*;

const GOOD: &str = "https://app.example.com/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client_registry() -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        vec![GOOD.to_owned(), "http://127.0.0.1:8080/cb".to_owned()],
        ["openid", "profile", "email", "offline_access"]
            .map(String::from)
            .to_vec(),
        vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
    )
}

fn query(extra: &[(&str, &str)], without: &[&str]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", GOOD),
        ("scope", "openid email"),
        ("state", "s1"),
        ("nonce", "n1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .filter(|(k, _)| !without.contains(k))
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k.to_string(), v.to_string()));
    }
    pairs
}

fn run(pairs: &[(String, String)]) -> Result<AuthorizeRequest, AuthorizeError> {
    let (redirects, scopes, grants) = client_registry();
    parse(pairs, |id| {
        (id == "app").then_some(ClientView {
            redirect_uris: &redirects,
            scopes: &scopes,
            grant_types: &grants,
        })
    })
}

fn redirect_error(pairs: &[(String, String)]) -> (&'static str, Option<String>) {
    match run(pairs) {
        Err(AuthorizeError::Redirect {
            error,
            state,
            redirect_uri,
            ..
        }) => {
            assert_eq!(redirect_uri, GOOD);
            (error, state)
        }
        other => panic!("expected a redirected error, got {other:?}"),
    }
}

#[test]
fn a_good_request_parses() {
    let r = run(&query(
        &[("prompt", "login consent"), ("max_age", "300")],
        &[],
    ))
    .unwrap();
    assert_eq!(r.client_id, "app");
    assert_eq!(r.redirect_uri, GOOD);
    assert_eq!(r.scopes, ["openid", "email"]);
    assert_eq!(r.state.as_deref(), Some("s1"));
    assert_eq!(r.nonce.as_deref(), Some("n1"));
    assert_eq!(r.code_challenge, CHALLENGE);
    assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
    assert_eq!(r.max_age, Some(300));
}

#[test]
fn redirect_uris_match_exactly_or_the_error_stays_on_the_page() {
    for bad in [
        "https://app.example.com/callback/",
        "https://APP.example.com/callback",
        "https://app.example.com/Callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/callback#f",
        "https://good@app.example.com/callback",
        "https://app.example.com@evil.example/callback",
        "https://app.example.com/callback/../evil",
        "https://app.example.com/callbackx",
        "https://app.example.com/",
        "https://app.example.com",
        "http://app.example.com/callback",
        "http://localhost:8080/cb",
        "",
    ] {
        let got = run(&query(&[("redirect_uri", bad)], &[]));
        assert!(
            matches!(got, Err(AuthorizeError::Page(_))),
            "{bad}: {got:?}"
        );
    }
    assert!(matches!(
        run(&query(&[], &["redirect_uri"])),
        Err(AuthorizeError::Page(_))
    ));
}

#[test]
fn unknown_or_missing_clients_stay_on_the_page() {
    assert!(matches!(
        run(&query(&[("client_id", "other")], &[])),
        Err(AuthorizeError::Page(_))
    ));
    assert!(matches!(
        run(&query(&[], &["client_id"])),
        Err(AuthorizeError::Page(_))
    ));
    // Even with every other parameter wrong, an unknown client is a page.
    let got = run(&query(
        &[("client_id", "x"), ("response_type", "token")],
        &[],
    ));
    assert!(matches!(got, Err(AuthorizeError::Page(_))));
}

#[test]
fn a_repeated_client_or_redirect_stays_on_the_page() {
    let mut pairs = query(&[], &[]);
    pairs.push(("redirect_uri".into(), "https://evil.example/".into()));
    assert!(matches!(run(&pairs), Err(AuthorizeError::Page(_))));
    let mut pairs = query(&[], &[]);
    pairs.push(("state".into(), "again".into()));
    assert_eq!(redirect_error(&pairs).0, "invalid_request");
}

#[test]
fn pkce_is_required_and_s256_only() {
    assert_eq!(
        redirect_error(&query(&[], &["code_challenge"])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[], &["code_challenge_method"])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[("code_challenge_method", "plain")], &[])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[("code_challenge", "too-short")], &[])).0,
        "invalid_request"
    );
}

#[test]
fn other_errors_go_back_with_the_state() {
    let (error, state) = redirect_error(&query(&[("response_type", "token")], &[]));
    assert_eq!(
        (error, state.as_deref()),
        ("unsupported_response_type", Some("s1"))
    );
    assert_eq!(
        redirect_error(&query(&[], &["response_type"])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[("scope", "openid admin")], &[])).0,
        "invalid_scope"
    );
    assert_eq!(
        redirect_error(&query(&[("scope", "")], &[])).0,
        "invalid_scope"
    );
    assert_eq!(
        redirect_error(&query(&[("prompt", "none login")], &[])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[("prompt", "bogus")], &[])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[("max_age", "-1")], &[])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[("max_age", "soon")], &[])).0,
        "invalid_request"
    );
    assert_eq!(
        redirect_error(&query(&[("request", "eyJ")], &[])).0,
        "request_not_supported"
    );
    assert_eq!(
        redirect_error(&query(&[("request_uri", "https://x")], &[])).0,
        "request_uri_not_supported"
    );
    assert_eq!(
        redirect_error(&query(&[("response_mode", "fragment")], &[])).0,
        "invalid_request"
    );
    let long = "n".repeat(MAX_PARAM + 1);
    assert_eq!(
        redirect_error(&query(&[("nonce", &long)], &[])).0,
        "invalid_request"
    );
    // An overlong state is not echoed.
    let (error, state) = redirect_error(&query(&[("state", &long)], &[]));
    assert_eq!((error, state), ("invalid_request", None));
}

#[test]
fn a_client_without_the_code_grant_is_unauthorized() {
    let redirects = vec![GOOD.to_owned()];
    let scopes = vec!["openid".to_owned()];
    let grants = vec!["client_credentials".to_owned()];
    let got = parse(&query(&[("scope", "openid")], &[]), |_| {
        Some(ClientView {
            redirect_uris: &redirects,
            scopes: &scopes,
            grant_types: &grants,
        })
    });
    assert!(
        matches!(
            got,
            Err(AuthorizeError::Redirect {
                error: "unauthorized_client",
                ..
            })
        ),
        "{got:?}"
    );
}

#[test]
fn scopes_are_deduplicated_in_order() {
    let r = run(&query(&[("scope", "email openid  email profile")], &[])).unwrap();
    assert_eq!(r.scopes, ["email", "openid", "profile"]);
}
