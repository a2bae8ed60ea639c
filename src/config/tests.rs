use super::keys::*;
use super::load::*;
use super::values::*;
use super::*;
use std::net::IpAddr;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Table;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_sources(Some(text), [])
}

fn parse_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_sources(None, env(pairs))
}

fn err(result: Result<Config, ConfigError>) -> String {
    match result {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

// --- defaults -----------------------------------------------------------

#[test]
fn nothing_at_all_is_the_default() {
    assert_eq!(Config::from_sources(None, []).unwrap(), Config::default());
    assert_eq!(parse("").unwrap(), Config::default());
    assert_eq!(parse("# only a comment\n").unwrap(), Config::default());
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::default();
    assert_eq!(c.server.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.server.public_url, "http://127.0.0.1:8080");
    assert_eq!(c.server.max_body_bytes, 65536);
    assert!(c.server.cors_origins.is_empty());
    assert!(c.server.trusted_proxies.is_empty());
    assert_eq!(c.server.request_timeout, Duration::from_secs(30));
    assert!(c.accounts.registration_open);
    assert_eq!(c.database.path, PathBuf::from("toktok.db"));
    assert_eq!(c.jwt.algorithm, Algorithm::EdDSA);
    assert!(c.jwt.secret.is_empty());
    assert_eq!(c.jwt.issuer, "toktok");
    assert_eq!(c.jwt.audience, "toktok");
    assert_eq!(c.jwt.access_ttl, Duration::from_secs(900));
    assert_eq!(c.jwt.refresh_ttl, Duration::from_secs(30 * 86400));
    assert_eq!(c.jwt.refresh_idle_ttl, Duration::from_secs(7 * 86400));
    assert_eq!(c.jwt.reuse_grace, Duration::from_secs(10));
    assert_eq!(c.password.algorithm, PasswordAlgorithm::Pbkdf2Sha256);
    assert_eq!(c.password.pbkdf2_iterations, 600_000);
    assert_eq!((c.password.min_length, c.password.max_length), (12, 256));
    assert!(!c.anonymous.enabled && !c.anonymous.required);
    assert_eq!(c.anonymous.ttl, Duration::from_secs(3600));
    assert!(!c.rsa.enabled && !c.rsa.required);
    assert_eq!(c.rsa.key_bits, 3072);
    assert_eq!(c.email.mode, EmailMode::Dev);
    assert!(!c.email.confirmation_required);
    assert_eq!(c.email.from, "toktok <no-reply@localhost>");
    assert_eq!(c.email.app_name, "toktok");
    assert_eq!(c.email.outbox_dir, PathBuf::from("outbox"));
    assert_eq!(c.email.templates_dir, PathBuf::new());
    assert_eq!(c.email.link_ttl, Duration::from_secs(86400));
    assert_eq!(c.email.give_up_after, Duration::from_secs(86400));
    assert_eq!(c.email.confirm_redirect_url, "");
    assert_eq!(c.email.reset_redirect_url, "");
    assert_eq!(c.smtp.host, "localhost");
    assert_eq!(c.smtp.port, 587);
    assert_eq!(c.smtp.tls, SmtpTls::Starttls);
    assert_eq!(c.smtp.username, "");
    assert!(c.smtp.password.is_empty());
    assert_eq!(c.smtp.timeout, Duration::from_secs(10));
    assert_eq!(c.challenges.max_attempts, 5);
    assert_eq!(c.challenges.sweep_interval, Duration::from_secs(60));
    assert!(c.rate_limit.enabled);
    assert_eq!(c.rate_limit.per_ip_per_minute, 60);
    assert_eq!(c.rate_limit.per_ip_burst, 30);
    assert_eq!(c.log.format, LogFormat::Pretty);
    assert_eq!(c.log.level, "info");
    assert!(c.metrics.enabled);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn shipped_toktok_toml_is_exactly_the_default() {
    let config = Config::from_sources(Some(include_str!("../../toktok.toml")), []).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn shipped_toktok_toml_lists_every_key() {
    let mut table: Table = include_str!("../../toktok.toml").parse().unwrap();
    super::load::lift_subsections(&mut table);
    for (section, keys) in KEYS {
        let entries = table[*section].as_table().unwrap();
        for (key, _) in *keys {
            assert!(
                entries.contains_key(*key),
                "toktok.toml lacks {section}.{key}"
            );
        }
        assert_eq!(entries.len(), keys.len(), "[{section}]");
    }
    assert_eq!(table.len(), KEYS.len());
}

/// Each row of KEYS stores into the field of its own name in its own
/// section (a row copied and half-edited would not): set alone, a key
/// changes `{:#?}` first at that field. Cross-field rules are left out, so
/// any valid value will do.
#[test]
fn every_key_stores_into_its_own_field() {
    let strings: &[(&str, &str)] = &[
        ("server.listen", "\"127.0.0.1:1\""),
        ("server.public_url", "\"https://a.example\""),
        ("server.cors_origins", "[\"https://a.example\"]"),
        ("server.trusted_proxies", "[\"10.0.0.0/8\"]"),
        ("branding.name", "\"Acme\""),
        ("branding.logo", "\"/etc/toktok/logo.svg\""),
        ("branding.support_email", "\"help@example.com\""),
        ("branding.primary_color", "\"#abc\""),
        ("branding.default_locale", "\"fr\""),
        ("branding.messages_dir", "\"m\""),
        ("database.path", "\"x.db\""),
        ("database.url", "\"postgres://db/x\""),
        ("jwt.algorithm", "\"ES256\""),
        ("jwt.secret", "\"s\""),
        ("jwt.issuer", "\"i\""),
        ("jwt.audience", "\"a\""),
        ("password.algorithm", "\"argon2id\""),
        ("email.mode", "\"smtp\""),
        ("email.from", "\"a@b.example\""),
        ("email.app_name", "\"A\""),
        ("email.outbox_dir", "\"o\""),
        ("email.templates_dir", "\"t\""),
        ("email.confirm_redirect_url", "\"https://c.example\""),
        ("email.reset_redirect_url", "\"https://r.example\""),
        ("smtp.host", "\"h\""),
        ("smtp.tls", "\"tls\""),
        ("smtp.username", "\"u\""),
        ("smtp.password", "\"p\""),
        ("log.format", "\"json\""),
        ("log.level", "\"debug\""),
        ("metrics.listen", "\"off\""),
        ("mfa.required_roles", "[]"),
        ("totp.issuer", "\"Acme\""),
        ("webauthn.rp_id", "\"example.com\""),
        ("webauthn.rp_name", "\"Acme\""),
        ("webauthn.origins", "[\"https://app.example.com\"]"),
        ("email_code.length", "8"),
        ("hooks.access_token.url", "\"https://h.example/claims\""),
        (
            "hooks.access_token.secret",
            "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"",
        ),
        ("hooks.access_token.timeout", "\"250ms\""),
        ("hooks.access_token.on_error", "\"skip\""),
        ("claims.from_app_metadata", "[\"plan\"]"),
        ("import.firebase.signer_key", "\"AAAA\""),
        ("import.firebase.salt_separator", "\"AQ==\""),
        ("import.firebase.rounds", "4"),
        ("import.firebase.mem_cost", "12"),
        (
            "accounts.allowed_redirects",
            "[\"https://app.example.com/done\"]",
        ),
    ];
    let origins = std::collections::HashMap::new();
    let checker = super::check::Checker { origins: &origins };
    let default = format!("{:#?}", Config::default());
    for (section, keys) in KEYS {
        for (name, rule) in *keys {
            let key = format!("{section}.{name}");
            let candidates: Vec<&str> = match rule.kind() {
                Kind::Bool => vec!["true", "false"],
                Kind::Int => match strings.iter().find(|(k, _)| *k == key) {
                    Some((_, v)) => vec![*v],
                    None => vec!["2049"],
                },
                Kind::Duration => vec!["\"7s\""],
                Kind::Str | Kind::List => strings
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, v)| *v)
                    .collect(),
            };
            let changed = candidates.iter().find_map(|value| {
                let entries: Table = format!("{name} = {value}").parse().unwrap();
                let mut table = Table::new();
                table.insert((*section).to_owned(), toml::Value::Table(entries));
                let shown = format!("{:#?}", checker.config(&table).unwrap());
                (shown != default).then_some(shown)
            });
            let Some(shown) = changed else {
                panic!("{key}: no sample changes the config (add one above)");
            };
            let at = default
                .lines()
                .zip(shown.lines())
                .position(|(a, b)| a != b)
                .unwrap();
            let lines: Vec<&str> = default.lines().collect();
            assert!(
                lines[at].trim_start().starts_with(&format!("{name}: ")),
                "{key} changed {:?}",
                lines[at]
            );
            let owner = lines[..at]
                .iter()
                .rev()
                .find(|l| l.starts_with("    ") && !l.starts_with("     "))
                .unwrap();
            assert!(
                owner
                    .trim_start()
                    .starts_with(&format!("{}: ", section.split('.').next().unwrap())),
                "{key} changed a field of {owner:?}"
            );
        }
    }
}

// --- enums ----------------------------------------------------------------

#[test]
fn every_enum_value_parses() {
    for algorithm in Algorithm::ALL {
        let secret = "s".repeat(32);
        let c = parse_env(&[
            ("TOKTOK_JWT__ALGORITHM", algorithm.as_str()),
            ("TOKTOK_JWT__SECRET", &secret),
        ])
        .unwrap();
        assert_eq!(c.jwt.algorithm, *algorithm);
    }
    for value in PasswordAlgorithm::ALL {
        let c = parse(&format!("[password]\nalgorithm = \"{}\"", value.as_str())).unwrap();
        assert_eq!(c.password.algorithm, *value);
    }
    for value in EmailMode::ALL {
        let c = parse(&format!("[email]\nmode = \"{}\"", value.as_str())).unwrap();
        assert_eq!(c.email.mode, *value);
    }
    for value in SmtpTls::ALL {
        let c = parse(&format!("[smtp]\ntls = \"{}\"", value.as_str())).unwrap();
        assert_eq!(c.smtp.tls, *value);
    }
    for value in LogFormat::ALL {
        let c = parse(&format!("[log]\nformat = \"{}\"", value.as_str())).unwrap();
        assert_eq!(c.log.format, *value);
    }
}

#[test]
fn enum_values_are_exact() {
    let e = err(parse("[jwt]\nalgorithm = \"eddsa\""));
    assert_eq!(
        e,
        "jwt.algorithm: expected one of \"EdDSA\", \"ES256\", \"RS256\", \"HS256\", got \"eddsa\""
    );
    assert!(err(parse("[password]\nalgorithm = \"bcrypt\""))
        .starts_with("password.algorithm: expected one of"));
    assert!(err(parse("[email]\nmode = \"sendmail\"")).starts_with("email.mode: "));
    assert!(err(parse("[smtp]\ntls = \"ssl\"")).starts_with("smtp.tls: "));
    assert!(err(parse("[log]\nformat = \"xml\"")).starts_with("log.format: "));
}

// --- unknown keys, types, syntax --------------------------------------------

#[test]
fn unknown_key_is_named_with_the_known_ones() {
    let e = err(parse("[server]\nlisen = \"0.0.0.0:80\""));
    assert_eq!(
        e,
        "unknown key `server.lisen` in toktok.toml (known keys in [server]: listen, public_url, max_body_bytes, cors_origins, trusted_proxies, request_timeout, demo, idle_timeout, max_connections_per_ip, docs)"
    );
}

#[test]
fn unknown_section_is_named() {
    let e = err(parse("[sever]\nlisten = \"0.0.0.0:80\""));
    assert!(
        e.starts_with("unknown section `[sever]` in toktok.toml (known sections: server, accounts"),
        "{e}"
    );
    let e = err(parse("[server.tls]\ncert = \"x\""));
    assert!(e.starts_with("unknown key `server.tls`"), "{e}");
    let e = err(parse("listen = \"0.0.0.0:80\""));
    assert!(
        e.starts_with("unknown key `listen` at the top of toktok.toml"),
        "{e}"
    );
    let e = err(parse("server = 5"));
    assert!(e.starts_with("server: expected a [server] section"), "{e}");
}

#[test]
fn wrong_type_in_file_names_the_key_without_echoing_the_value() {
    assert_eq!(
        err(parse("[smtp]\nport = \"587\"")),
        "smtp.port: expected a whole number, got a string"
    );
    assert_eq!(
        err(parse("[smtp]\npassword = 123456789")),
        "smtp.password: expected a string (in quotes), got an integer"
    );
    assert!(err(parse("[metrics]\nenabled = \"yes\""))
        .starts_with("metrics.enabled: expected true or false"));
    assert!(
        err(parse("[jwt]\naccess_ttl = 1.5")).starts_with("jwt.access_ttl: expected a duration")
    );
    assert!(err(parse("[server]\ncors_origins = \"https://a.example\""))
        .starts_with("server.cors_origins: expected a list"));
    assert!(err(parse("[server]\ntrusted_proxies = [1]")).contains("list containing an integer"));
}

#[test]
fn syntax_error_is_one_line_with_position() {
    let e = err(parse(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \n",
    ));
    assert!(
        e.starts_with("toktok.toml: invalid TOML at line 3, column "),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let e = err(parse("[server]\n[server]\n"));
    assert!(e.starts_with("toktok.toml: invalid TOML at line 2"), "{e}");
}

#[test]
fn line_column_counts_characters() {
    assert_eq!(line_column("ab\ncdé f", 0), (1, 1));
    assert_eq!(line_column("ab\ncdé f", 3), (2, 1));
    assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
    assert_eq!(line_column("ab", 99), (1, 3));
}

// --- environment ---------------------------------------------------------------

#[test]
fn env_beats_file() {
    let c = Config::from_sources(
        Some("[jwt]\naccess_ttl = \"5m\"\nissuer = \"file\""),
        env(&[("TOKTOK_JWT__ACCESS_TTL", "900")]),
    )
    .unwrap();
    assert_eq!(c.jwt.access_ttl, Duration::from_secs(900));
    assert_eq!(c.jwt.issuer, "file");
}

#[test]
fn env_unknown_key_or_section_names_the_variable() {
    assert_eq!(
        err(parse_env(&[("TOKTOK_SERVER__PORT", "80")])),
        "TOKTOK_SERVER__PORT: unknown key `server.port` (known keys in [server]: listen, public_url, max_body_bytes, cors_origins, trusted_proxies, request_timeout, demo, idle_timeout, max_connections_per_ip, docs)"
    );
    let e = err(parse_env(&[("TOKTOK_SEVER__LISTEN", "0.0.0.0:80")]));
    assert!(
        e.starts_with("TOKTOK_SEVER__LISTEN: unknown section `sever`"),
        "{e}"
    );
}

#[test]
fn env_without_double_underscore_or_prefix_is_ignored() {
    let c = parse_env(&[
        ("TOKTOK_CONFIG", "/etc/toktok.toml"),
        ("TOKTOK_LOG", "debug"),
        ("HOME", "/root"),
        ("toktok_server__port", "1"),
        ("OTHER__THING", "x"),
    ])
    .unwrap();
    assert_eq!(c, Config::default());
}

#[test]
fn env_names_are_case_insensitive_after_the_prefix() {
    let c = parse_env(&[("TOKTOK_Rate_Limit__Per_Ip_Burst", "7")]).unwrap();
    assert_eq!(c.rate_limit.per_ip_burst, 7);
}

#[test]
fn env_setting_one_key_twice_is_an_error() {
    let e = err(parse_env(&[
        ("TOKTOK_LOG__LEVEL", "info"),
        ("TOKTOK_log__level", "debug"),
    ]));
    assert!(e.contains("already sets log.level"), "{e}");
}

#[test]
fn env_string_keys_take_the_text_as_is() {
    let c = parse_env(&[
        ("TOKTOK_SMTP__PASSWORD", "12345"),
        ("TOKTOK_SMTP__USERNAME", "true"),
        ("TOKTOK_JWT__ISSUER", "https://auth.example.com"),
    ])
    .unwrap();
    assert_eq!(c.smtp.password.expose(), "12345");
    assert_eq!(c.smtp.username, "true");
    assert_eq!(c.jwt.issuer, "https://auth.example.com");
}

#[test]
fn env_int() {
    let c = parse_env(&[
        ("TOKTOK_SMTP__PORT", "2525"),
        ("TOKTOK_RSA__KEY_BITS", " 4096 "),
    ])
    .unwrap();
    assert_eq!(c.smtp.port, 2525);
    assert_eq!(c.rsa.key_bits, 4096);
    assert_eq!(
        err(parse_env(&[("TOKTOK_SMTP__PORT", "smtp")])),
        "TOKTOK_SMTP__PORT: expected a whole number, got \"smtp\""
    );
    assert_eq!(
        err(parse_env(&[("TOKTOK_SMTP__PORT", "70000")])),
        "TOKTOK_SMTP__PORT (smtp.port): must be at most 65535, got 70000"
    );
}

#[test]
fn connection_limits_and_the_metrics_listener() {
    let c = parse("").unwrap();
    assert_eq!(c.server.idle_timeout, Duration::from_secs(10));
    assert_eq!(c.server.max_connections_per_ip, 100);
    assert_eq!(c.metrics.listen, Some("127.0.0.1:9464".parse().unwrap()));
    let c = parse(
        "[server]\nidle_timeout = \"2s\"\nmax_connections_per_ip = 0\n\
         [metrics]\nlisten = \"[::1]:9100\"",
    )
    .unwrap();
    assert_eq!(c.server.idle_timeout, Duration::from_secs(2));
    assert_eq!(c.server.max_connections_per_ip, 0);
    assert_eq!(c.metrics.listen, Some("[::1]:9100".parse().unwrap()));
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    for off in ["", "off", " off "] {
        let c = parse(&format!("[metrics]\nlisten = \"{off}\"")).unwrap();
        assert_eq!(c.metrics.listen, None);
    }
    assert!(err(parse("[metrics]\nlisten = \"9464\""))
        .starts_with("metrics.listen: expected a socket address"));
    assert!(err(parse("[server]\nmax_connections_per_ip = -1"))
        .starts_with("server.max_connections_per_ip: "));
    let c = parse("[metrics]\nlisten = \"0.0.0.0:9464\"").unwrap();
    assert!(c.warnings()[0].starts_with("metrics.listen = \"0.0.0.0:9464\" is not a loopback"));
}

#[test]
fn env_bool() {
    for (text, expected) in [("true", true), ("FALSE", false), ("1", true), ("0", false)] {
        let c = parse_env(&[("TOKTOK_METRICS__ENABLED", text)]).unwrap();
        assert_eq!(c.metrics.enabled, expected, "{text}");
    }
    assert_eq!(
        err(parse_env(&[("TOKTOK_METRICS__ENABLED", "yes")])),
        "TOKTOK_METRICS__ENABLED: expected true, false, 1 or 0, got \"yes\""
    );
}

#[test]
fn env_duration() {
    let c = parse_env(&[
        ("TOKTOK_JWT__ACCESS_TTL", "900"),
        ("TOKTOK_ANONYMOUS__TTL", "2h"),
    ])
    .unwrap();
    assert_eq!(c.jwt.access_ttl, Duration::from_secs(900));
    assert_eq!(c.anonymous.ttl, Duration::from_secs(7200));
    assert_eq!(
        err(parse_env(&[("TOKTOK_JWT__ACCESS_TTL", "abc")])),
        "TOKTOK_JWT__ACCESS_TTL: expected a duration like \"90s\", \"15m\", \"30d\" or a number of seconds, got \"abc\""
    );
    assert_eq!(
        err(parse_env(&[("TOKTOK_JWT__ACCESS_TTL", "0")])),
        "TOKTOK_JWT__ACCESS_TTL: must be at least 1 second, got \"0\""
    );
}

#[test]
fn env_list() {
    let c = parse_env(&[
        (
            "TOKTOK_SERVER__CORS_ORIGINS",
            "https://a.example, https://b.example,",
        ),
        ("TOKTOK_SERVER__TRUSTED_PROXIES", "10.0.0.0/8,::1"),
    ])
    .unwrap();
    assert_eq!(
        c.server.cors_origins,
        ["https://a.example", "https://b.example"]
    );
    assert_eq!(c.server.trusted_proxies.len(), 2);
    let c = Config::from_sources(
        Some("[server]\ncors_origins = [\"https://a.example\"]"),
        env(&[("TOKTOK_SERVER__CORS_ORIGINS", "")]),
    )
    .unwrap();
    assert!(c.server.cors_origins.is_empty());
}

#[test]
fn env_value_errors_in_checking_name_the_variable() {
    assert_eq!(
        err(parse_env(&[("TOKTOK_SERVER__LISTEN", "localhost")])),
        "TOKTOK_SERVER__LISTEN (server.listen): expected a socket address like \"127.0.0.1:8080\" or \"[::]:8080\", got \"localhost\""
    );
    assert_eq!(
        err(parse_env(&[("TOKTOK_JWT__ALGORITHM", "HS256"), ("TOKTOK_JWT__SECRET", "short")])),
        "TOKTOK_JWT__SECRET (jwt.secret): HS256 needs a secret of at least 32 bytes (got 5); pass it as TOKTOK_JWT__SECRET"
    );
}

// --- durations -------------------------------------------------------------------

#[test]
fn duration_strings() {
    let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
    assert_eq!(secs("90s"), Ok(90));
    assert_eq!(secs("15m"), Ok(900));
    assert_eq!(secs("2h"), Ok(7200));
    assert_eq!(secs("30d"), Ok(30 * 86400));
    assert_eq!(secs("1h30m"), Ok(5400));
    assert_eq!(secs("1d2h3m4s"), Ok(86400 + 7200 + 180 + 4));
    assert_eq!(secs("900"), Ok(900));
    assert_eq!(secs(" 5m "), Ok(300));
    assert_eq!(secs("36500d"), Ok(MAX_DURATION_SECS));
}

#[test]
fn duration_garbage_and_zero_are_refused() {
    for bad in [
        "", "abc", "m", "15 m", "1.5h", "15M", "1h30", "30m1h", "1m1m", "-5s", "5ms", "1w",
    ] {
        assert_eq!(
            parse_duration(bad),
            Err(DurationProblem::Malformed),
            "{bad:?}"
        );
    }
    assert_eq!(parse_duration("0s"), Err(DurationProblem::TooShort));
    assert_eq!(parse_duration("0"), Err(DurationProblem::TooShort));
    assert_eq!(parse_duration("0h0m"), Err(DurationProblem::TooShort));
    assert_eq!(parse_duration("36501d"), Err(DurationProblem::TooLong));
    assert_eq!(
        parse_duration("99999999999999999999999s"),
        Err(DurationProblem::TooLong)
    );
    assert_eq!(
        parse_duration("99999999999999999d"),
        Err(DurationProblem::TooLong)
    );
}

#[test]
fn duration_keys_in_the_file() {
    let c = parse("[jwt]\naccess_ttl = 600\nrefresh_ttl = \"1d12h\"\nrefresh_idle_ttl = \"12h\"")
        .unwrap();
    assert_eq!(c.jwt.access_ttl, Duration::from_secs(600));
    assert_eq!(c.jwt.refresh_ttl, Duration::from_secs(36 * 3600));
    assert_eq!(
        err(parse("[jwt]\naccess_ttl = \"abc\"")),
        "jwt.access_ttl: expected a duration like \"90s\", \"15m\", \"30d\" or a number of seconds, got \"abc\""
    );
    assert_eq!(
        err(parse("[challenges]\nsweep_interval = 0")),
        "challenges.sweep_interval: must be at least 1 second, got 0"
    );
    assert_eq!(
        err(parse("[anonymous]\nttl = -3")),
        "anonymous.ttl: must be at least 1 second, got -3"
    );
    assert!(err(parse("[email]\nlink_ttl = \"0s\""))
        .starts_with("email.link_ttl: must be at least 1 second"));
}

#[test]
fn format_duration_is_compact() {
    assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    assert_eq!(format_duration(Duration::from_secs(7 * 86400)), "7d");
    assert_eq!(format_duration(Duration::from_secs(10)), "10s");
    assert_eq!(format_duration(Duration::ZERO), "0s");
}

// --- single-key checks ----------------------------------------------------------

#[test]
fn server_values() {
    let c = parse(
        "[server]\nlisten = \"[::]:9000\"\npublic_url = \"https://auth.example.com/\"\nmax_body_bytes = 1024\ncors_origins = [\"https://App.Example.com/\"]\ntrusted_proxies = [\"10.0.0.0/8\"]\nrequest_timeout = \"1m\"",
    )
    .unwrap();
    assert_eq!(c.server.listen, "[::]:9000".parse().unwrap());
    assert_eq!(c.server.public_url, "https://auth.example.com");
    assert_eq!(c.server.max_body_bytes, 1024);
    assert_eq!(c.server.cors_origins, ["https://app.example.com"]);
    assert_eq!(
        c.server.trusted_proxies,
        ["10.0.0.0/8".parse::<IpNet>().unwrap()]
    );
    assert_eq!(c.server.request_timeout, Duration::from_secs(60));
}

#[test]
fn server_values_refused() {
    assert!(err(parse("[server]\nlisten = \"127.0.0.1\""))
        .starts_with("server.listen: expected a socket address"));
    assert_eq!(
        err(parse("[server]\npublic_url = \"auth.example.com\"")),
        "server.public_url: expected an http:// or https:// URL like \"https://auth.example.com\", got \"auth.example.com\""
    );
    assert!(err(parse("[server]\npublic_url = \"https://\"")).starts_with("server.public_url"));
    assert_eq!(
        err(parse("[server]\nmax_body_bytes = 1023")),
        "server.max_body_bytes: must be at least 1024, got 1023"
    );
    for bad in ["*", "https://a.example/path", "a.example", "https://a b"] {
        let e = err(parse(&format!("[server]\ncors_origins = [\"{bad}\"]")));
        assert!(
            e.starts_with(&format!("server.cors_origins: \"{bad}\" is not an origin")),
            "{e}"
        );
    }
    let e = err(parse("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]"));
    assert_eq!(
        e,
        "server.trusted_proxies: expected an IP address or network like \"10.0.0.0/8\" or \"fd00::/8\", got \"10.0.0.0/33\""
    );
}

#[test]
fn numeric_ranges() {
    assert_eq!(
        err(parse("[password]\npbkdf2_iterations = 999")),
        "password.pbkdf2_iterations: must be at least 1000, got 999"
    );
    assert!(err(parse("[password]\nmin_length = 0"))
        .starts_with("password.min_length: must be at least 1"));
    assert!(err(parse("[password]\nmax_length = 127"))
        .starts_with("password.max_length: must be at least 128"));
    assert!(err(parse("[rsa]\nkey_bits = 1024")).starts_with("rsa.key_bits: must be at least 2048"));
    assert!(err(parse("[rsa]\nkey_bits = 16384")).starts_with("rsa.key_bits: must be at most 8192"));
    assert!(err(parse("[smtp]\nport = 0")).starts_with("smtp.port: must be at least 1"));
    assert!(err(parse("[challenges]\nmax_attempts = 0"))
        .starts_with("challenges.max_attempts: must be at least 1"));
    assert!(err(parse("[rate_limit]\nper_ip_per_minute = 0"))
        .starts_with("rate_limit.per_ip_per_minute: "));
    assert!(err(parse("[rate_limit]\nper_ip_burst = 0")).starts_with("rate_limit.per_ip_burst: "));
    assert!(err(parse("[rate_limit]\nper_ip_burst = 4294967296"))
        .starts_with("rate_limit.per_ip_burst: must be at most 4294967295"));
    let c =
        parse("[password]\npbkdf2_iterations = 1000\nmin_length = 1\nmax_length = 128").unwrap();
    assert_eq!(c.password.pbkdf2_iterations, 1000);
}

#[test]
fn database_url_selects_postgres_and_excludes_path() {
    let c = parse("[database]\nurl = \"postgres://u:pw@127.0.0.1:5432/toktok\"").unwrap();
    let url = c.database.url.as_ref().unwrap();
    assert_eq!(url.expose(), "postgres://u:pw@127.0.0.1:5432/toktok");
    assert!(
        !format!("{:?}", c.database).contains("pw"),
        "the URL is redacted"
    );
    assert!(err(parse(
        "[database]\npath = \"a.db\"\nurl = \"postgres://h/db\""
    ))
    .contains("not both"));
    let c = parse_env(&[("TOKTOK_DATABASE__URL", "postgres://h/db")]).unwrap();
    assert_eq!(c.database.url.unwrap().expose(), "postgres://h/db");
    let c = parse("[database]\npath = \"a.db\"\nurl = \"\"").unwrap();
    assert_eq!(c.database.url, None, "empty means SQLite");
    for bad in ["mysql://h/db", "postgres://", "h/db", " "] {
        let text = format!("[database]\nurl = \"{bad}\"");
        assert!(
            err(parse(&text)).starts_with("database.url: must be a PostgreSQL URL"),
            "{bad}"
        );
    }
}

#[test]
fn strings_that_must_not_be_empty() {
    assert_eq!(
        err(parse("[database]\npath = \"\"")),
        "database.path: must not be empty"
    );
    assert_eq!(
        err(parse("[jwt]\nissuer = \" \"")),
        "jwt.issuer: must not be empty"
    );
    assert_eq!(
        err(parse("[jwt]\naudience = \"\"")),
        "jwt.audience: must not be empty"
    );
    assert_eq!(
        err(parse("[email]\noutbox_dir = \"\"")),
        "email.outbox_dir: must not be empty"
    );
    assert!(err(parse("[email]\nfrom = \"toktok\"")).starts_with("email.from: expected a mailbox"));
}

#[test]
fn log_level() {
    for ok in [
        "trace",
        "debug",
        "info",
        "warn",
        "error",
        "off",
        "info,toktok=debug",
        "toktok::http=trace",
        "hyper_util=warn,info",
    ] {
        assert_eq!(
            parse(&format!("[log]\nlevel = \"{ok}\""))
                .unwrap()
                .log
                .level,
            ok
        );
    }
    for bad in [
        "",
        "INFO",
        "loud=yes",
        "info,",
        "toktok=verbose",
        "info;debug",
    ] {
        let e = err(parse(&format!("[log]\nlevel = \"{bad}\"")));
        assert!(
            e.starts_with("log.level: expected trace, debug"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn redirect_urls() {
    let c = parse("[email]\nconfirm_redirect_url = \"https://app.example.com/confirmed/\"\nreset_redirect_url = \"http://localhost:3000/reset?x=1\"").unwrap();
    assert_eq!(
        c.email.confirm_redirect_url,
        "https://app.example.com/confirmed/"
    );
    assert_eq!(
        c.email.reset_redirect_url,
        "http://localhost:3000/reset?x=1"
    );
    assert_eq!(
        err(parse("[email]\nreset_redirect_url = \"/reset\"")),
        "email.reset_redirect_url: expected empty or an http:// or https:// URL like \"https://auth.example.com\", got \"/reset\""
    );
    assert!(err(parse(
        "[email]\nconfirm_redirect_url = \"javascript:alert(1)\""
    ))
    .starts_with("email.confirm_redirect_url: "));
}

#[test]
fn mail_keys() {
    let c = parse(
        "[email]\napp_name = \"Acme ID\"\ntemplates_dir = \"/etc/toktok/mail\"\ngive_up_after = \"2h\"\n[smtp]\ntimeout = 3",
    )
    .unwrap();
    assert_eq!(c.email.app_name, "Acme ID");
    assert_eq!(c.email.templates_dir, PathBuf::from("/etc/toktok/mail"));
    assert_eq!(c.email.give_up_after, Duration::from_secs(7200));
    assert_eq!(c.smtp.timeout, Duration::from_secs(3));
    assert_eq!(
        parse("[email]\ntemplates_dir = \"\"")
            .unwrap()
            .email
            .templates_dir,
        PathBuf::new()
    );
    assert_eq!(
        err(parse("[email]\napp_name = \" \"")),
        "email.app_name: must not be empty"
    );
    assert!(err(parse("[email]\napp_name = \"a\\r\\nBcc: x@y\""))
        .starts_with("email.app_name: must be one line"));
    assert!(err(parse("[email]\ngive_up_after = \"0s\""))
        .starts_with("email.give_up_after: must be at least 1 second"));
    assert!(
        err(parse("[smtp]\ntimeout = \"soon\"")).starts_with("smtp.timeout: expected a duration")
    );
    let c = Config::from_sources(None, env(&[("TOKTOK_SMTP__TIMEOUT", "1")])).unwrap();
    assert_eq!(c.smtp.timeout, Duration::from_secs(1));
}

// --- cross-field rules ------------------------------------------------------------

#[test]
fn hs256_needs_a_long_secret() {
    assert_eq!(
        err(parse("[jwt]\nalgorithm = \"HS256\"\nsecret = \"12345\"")),
        "jwt.secret: HS256 needs a secret of at least 32 bytes (got 5); pass it as TOKTOK_JWT__SECRET"
    );
    assert!(err(parse("[jwt]\nalgorithm = \"HS256\"")).contains("(got 0)"));
    let secret = "k".repeat(32);
    let c = parse(&format!(
        "[jwt]\nalgorithm = \"HS256\"\nsecret = \"{secret}\""
    ))
    .unwrap();
    assert_eq!(c.jwt.secret.expose(), secret);
    // Other algorithms don't need one.
    parse("[jwt]\nalgorithm = \"RS256\"").unwrap();
}

#[test]
fn required_needs_enabled() {
    assert_eq!(
        err(parse("[anonymous]\nrequired = true")),
        "anonymous.required: needs anonymous.enabled = true"
    );
    assert!(parse("[anonymous]\nrequired = true\nenabled = true").is_ok());
    assert_eq!(
        err(parse("[rsa]\nrequired = true")),
        "rsa.required: needs rsa.enabled = true"
    );
    assert!(parse("[rsa]\nrequired = true\nenabled = true").is_ok());
}

#[test]
fn confirmation_needs_mail() {
    let e = err(parse(
        "[email]\nmode = \"off\"\nconfirmation_required = true",
    ));
    assert!(
        e.starts_with("email.confirmation_required: cannot be true while email.mode = \"off\""),
        "{e}"
    );
    assert!(parse("[email]\nmode = \"dev\"\nconfirmation_required = true").is_ok());
    assert!(parse("[email]\nmode = \"off\"").is_ok());
}

#[test]
fn smtp_mode_needs_a_host() {
    assert_eq!(
        err(parse("[email]\nmode = \"smtp\"\n[smtp]\nhost = \"\"")),
        "smtp.host: must be set when email.mode = \"smtp\""
    );
    assert!(parse("[email]\nmode = \"smtp\"").is_ok());
}

#[test]
fn refresh_idle_at_most_refresh() {
    assert_eq!(
        err(parse(
            "[jwt]\nrefresh_ttl = \"1d\"\nrefresh_idle_ttl = \"2d\""
        )),
        "jwt.refresh_idle_ttl: must not be longer than jwt.refresh_ttl (2d > 1d)"
    );
    assert!(parse("[jwt]\nrefresh_ttl = \"2d\"\nrefresh_idle_ttl = \"2d\"").is_ok());
}

#[test]
fn reuse_grace_may_be_zero_for_strict_rotation() {
    for zero in ["0", "\"0s\"", "\"0\"", "\"00m\""] {
        let c = parse(&format!("[jwt]\nreuse_grace = {zero}")).unwrap();
        assert_eq!(c.jwt.reuse_grace, Duration::ZERO, "{zero}");
    }
    assert_eq!(
        parse("[jwt]\nreuse_grace = \"1s\"")
            .unwrap()
            .jwt
            .reuse_grace,
        Duration::from_secs(1)
    );
    assert!(parse("[jwt]\nreuse_grace = -1").is_err());
    assert!(parse("[jwt]\nreuse_grace = \"0x\"").is_err());
    // Only reuse_grace: other durations still need a second.
    assert!(parse("[jwt]\naccess_ttl = \"0s\"").is_err());
}

#[test]
fn reuse_grace_below_access_ttl() {
    assert_eq!(
        err(parse("[jwt]\naccess_ttl = \"1m\"\nreuse_grace = \"1m\"")),
        "jwt.reuse_grace: must be shorter than jwt.access_ttl (1m >= 1m)"
    );
    assert!(parse("[jwt]\naccess_ttl = \"1m\"\nreuse_grace = \"59s\"").is_ok());
}

#[test]
fn key_reload_is_between_a_second_and_an_hour() {
    assert_eq!(parse("").unwrap().jwt.key_reload, Duration::from_secs(60));
    assert_eq!(
        parse("[jwt]\nkey_reload = \"5s\"").unwrap().jwt.key_reload,
        Duration::from_secs(5)
    );
    assert_eq!(
        err(parse("[jwt]\nkey_reload = \"2h\"")),
        "jwt.key_reload: must be at most 1h (a rotated key waits twice this before it signs), got 2h"
    );
    assert_eq!(
        err(parse("[jwt]\nkey_reload = 0")),
        "jwt.key_reload: must be at least 1 second, got 0"
    );
}

#[test]
fn max_length_at_least_min_length() {
    assert_eq!(
        err(parse("[password]\nmin_length = 200\nmax_length = 150")),
        "password.max_length: must be at least password.min_length (150 < 200)"
    );
}

// --- warnings ---------------------------------------------------------------------

#[test]
fn warnings_for_risky_settings() {
    let c = parse("[password]\npbkdf2_iterations = 1000").unwrap();
    assert!(c.warnings()[0].starts_with("password.pbkdf2_iterations = 1000 is below"));
    let c = parse("[password]\nalgorithm = \"argon2id\"\npbkdf2_iterations = 1000").unwrap();
    assert!(c.warnings().is_empty());

    let c = parse("[jwt]\nsecret = \"not-used-here\"").unwrap();
    assert_eq!(
        c.warnings(),
        ["jwt.secret is set but jwt.algorithm is EdDSA; the secret is ignored"]
    );
    assert!(!c.warnings()[0].contains("not-used-here"));

    let c = parse("[email]\nmode = \"smtp\"\n[smtp]\nhost = \"mail.example.com\"\ntls = \"none\"\npassword = \"pw\"").unwrap();
    assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
    assert!(c.warnings()[0].starts_with("smtp.tls = \"none\""));

    for all in ["0.0.0.0/0", "::/0"] {
        let c = parse(&format!(
            "[server]\ntrusted_proxies = [\"10.0.0.1\", \"{all}\"]"
        ))
        .unwrap();
        assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
        assert!(c.warnings()[0].contains("trusts every address"));
    }
    let c = parse("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap();
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    let c = parse("[rate_limit]\nenabled = false").unwrap();
    assert_eq!(c.warnings().len(), 1);

    let c = parse("[server]\npublic_url = \"http://auth.example.com\"").unwrap();
    let w = c.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("server.public_url"));
    assert!(w[1].starts_with("email.mode = \"dev\""));

    let c = parse("[server]\npublic_url = \"http://[::1]:8080\"").unwrap();
    assert!(c.warnings().is_empty());
}

// --- secrets --------------------------------------------------------------------------

#[test]
fn debug_of_a_config_shows_no_secret() {
    let c = Config::from_sources(
        Some("[jwt]\nalgorithm = \"HS256\"\nsecret = \"correct-horse-battery-staple-xyzzy\""),
        env(&[("TOKTOK_SMTP__PASSWORD", "hunter2-smtp-password")]),
    )
    .unwrap();
    let shown = format!("{c:?} {c:#?}");
    assert!(!shown.contains("correct-horse"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("[redacted]"));
    assert_eq!(c.smtp.password.expose(), "hunter2-smtp-password");
    assert_eq!(format!("{}", c.jwt.secret), "[redacted]");
    assert_eq!(format!("{:?}", Secret::default()), "[empty]");
    assert_eq!(Secret::new("a"), Secret::from("a".to_string()));
}

#[test]
fn errors_never_show_a_secret() {
    let e = err(Config::from_sources(
        Some("[jwt]\nalgorithm = \"HS256\"\nsecret = \"tiny-secret\""),
        [],
    ));
    assert!(!e.contains("tiny-secret"), "{e}");
}

// --- IpNet ----------------------------------------------------------------------------

#[test]
fn ipnet_parses() {
    let net: IpNet = "10.0.0.0/8".parse().unwrap();
    assert_eq!(net.to_string(), "10.0.0.0/8");
    assert_eq!(
        "10.1.2.3/8".parse::<IpNet>().unwrap(),
        net,
        "host bits are cleared"
    );
    assert_eq!(
        "10.0.0.1".parse::<IpNet>().unwrap().to_string(),
        "10.0.0.1/32"
    );
    assert_eq!("::1".parse::<IpNet>().unwrap().to_string(), "::1/128");
    assert_eq!("fd00::/8".parse::<IpNet>().unwrap().to_string(), "fd00::/8");
    assert_eq!(
        "0.0.0.0/0".parse::<IpNet>().unwrap().to_string(),
        "0.0.0.0/0"
    );
    for bad in [
        "",
        "10.0.0.0/",
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/+8",
        "10.0.0/8",
        "host",
        "10.0.0.0/8/8",
    ] {
        assert!(bad.parse::<IpNet>().is_err(), "{bad:?}");
    }
}

#[test]
fn ipnet_contains() {
    let v4 = |s: &str| IpAddr::V4(s.parse::<Ipv4Addr>().unwrap());
    let v6 = |s: &str| IpAddr::V6(s.parse::<Ipv6Addr>().unwrap());
    let net: IpNet = "10.0.0.0/8".parse().unwrap();
    assert!(net.contains(v4("10.255.1.2")));
    assert!(!net.contains(v4("11.0.0.1")));
    assert!(
        net.contains(v6("::ffff:10.1.2.3")),
        "v4-mapped v6 matches a v4 net"
    );
    assert!(!net.contains(v6("::ffff:11.1.2.3")));
    assert!(!net.contains(v6("fd00::1")));

    let single: IpNet = "192.168.1.5".parse().unwrap();
    assert!(single.contains(v4("192.168.1.5")));
    assert!(!single.contains(v4("192.168.1.6")));

    let all: IpNet = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains(v4("8.8.8.8")));
    assert!(!all.contains(v6("2001:db8::1")));

    let ula: IpNet = "fd00::/8".parse().unwrap();
    assert!(ula.contains(v6("fd12:3456::1")));
    assert!(!ula.contains(v6("fe80::1")));
    assert!(!ula.contains(v4("10.0.0.1")));

    let loopback: IpNet = "::1".parse().unwrap();
    assert!(loopback.contains(v6("::1")));
    assert!(!loopback.contains(v4("127.0.0.1")));

    let mapped: IpNet = "::ffff:0:0/96".parse().unwrap();
    assert!(mapped.contains(v4("1.2.3.4")));
    assert!(mapped.contains(v6("::ffff:1.2.3.4")));
}

// --- load ------------------------------------------------------------------------------

#[test]
fn load_reports_a_missing_file() {
    let path = Path::new("/nonexistent/toktok-test/toktok.toml");
    let e = Config::load(Some(path)).unwrap_err().to_string();
    assert!(
        e.starts_with("cannot read config file /nonexistent/toktok-test/toktok.toml: "),
        "{e}"
    );
}

#[test]
fn load_names_the_file_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prod.toml");
    std::fs::write(&path, "[server]\nlisen = 1\n").unwrap();
    let e = Config::load(Some(&path)).unwrap_err().to_string();
    assert!(e.contains(&format!("in {}", path.display())), "{e}");
}

#[test]
fn guessable_hs256_secrets_are_warned_about() {
    // The security review's four examples (TT-13).
    for secret in [
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "passwordpasswordpasswordpassword",
        "changeme-changeme-changeme-changeme",
        "0123456789abcdef0123456789abcdef",
    ] {
        assert!(weak_secret(secret).is_some(), "{secret}");
        let c = parse_env(&[
            ("TOKTOK_JWT__ALGORITHM", "HS256"),
            ("TOKTOK_JWT__SECRET", secret),
        ])
        .unwrap();
        let warnings = c.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("jwt.secret looks guessable")
                    && w.contains("openssl rand -base64 48")),
            "{secret}: {warnings:?}"
        );
    }
    // Other shapes of the same mistakes.
    for secret in [
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "my-company-jwt-secret-key-for-production",
        "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3",
        "0101010101010101010101010101010101",
    ] {
        assert!(weak_secret(secret).is_some(), "{secret}");
    }
    // Random secrets, as documented and as `init --hs256` makes them.
    for secret in [
        "q8V3dJ0mZpL2rX7tYk9sWc4uHf1bNa6eGi5oRy0TxQvMzKjDlPwS8hUnC3gEBAF7",
        "f3a9c1e07b2d48e6a5c0b9d17e3f2a4c8d6b0e1f9a7c3d5e2b4f6a8c0d1e3f5",
        "Jx3kP9mQ2vR8tW5yZ1cF7hL4nB6dG0sA",
    ] {
        assert_eq!(weak_secret(secret), None, "{secret}");
    }
    let c = parse_env(&[
        ("TOKTOK_JWT__ALGORITHM", "HS256"),
        ("TOKTOK_JWT__SECRET", "Jx3kP9mQ2vR8tW5yZ1cF7hL4nB6dG0sA"),
    ])
    .unwrap();
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn a_changed_listen_with_the_default_public_url_is_warned_about() {
    let c = parse("[server]\nlisten = \"127.0.0.1:9090\"\n").unwrap();
    let warnings = c.warnings();
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "server.public_url is the default http://127.0.0.1:8080 but server.listen is 127.0.0.1:9090"
        )),
        "{warnings:?}"
    );
    let c =
        parse("[server]\nlisten = \"127.0.0.1:9090\"\npublic_url = \"http://127.0.0.1:9090\"\n")
            .unwrap();
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    assert!(Config::default().warnings().is_empty());
}

#[test]
fn server_docs_is_a_switch() {
    assert!(Config::default().server.docs);
    assert!(!parse("[server]\ndocs = false\n").unwrap().server.docs);
    assert!(
        !parse_env(&[("TOKTOK_SERVER__DOCS", "false")])
            .unwrap()
            .server
            .docs
    );
}

// --- hostile input (issue 9; moved from tests/api/hostile.rs) -------------

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};

/// `PROPTEST_CASES` when set (a long local run: `PROPTEST_CASES=20000
/// cargo test --lib config::tests::the_config_parser`), else 512.
fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    TestRunner::new(PropConfig {
        cases,
        failure_persistence: None,
        ..PropConfig::default()
    })
}

/// Every real section, and one that is not.
fn sections() -> Vec<&'static str> {
    let mut names: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
    names.push("nope");
    names
}

/// Every real key name (of any section), and one that is not.
fn key_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = KEYS
        .iter()
        .flat_map(|(_, keys)| keys.iter().map(|(name, _)| *name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.push("x");
    names
}

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "0",
            "-1",
            "1",
            "65536",
            "4294967296",
            "1e400",
            "nan",
            "inf",
            "true",
            "false",
            "\"\"",
            "\"0s\"",
            "\"1s\"",
            "\"15m\"",
            "\"30d\"",
            "\"99999999999d\"",
            "\"-5s\"",
            "\"1.5h\"",
            "\"EdDSA\"",
            "\"HS256\"",
            "\"none\"",
            "\"dev\"",
            "\"smtp\"",
            "\"off\"",
            "\"127.0.0.1:0\"",
            "\"[::1]:99999\"",
            "\"http://x\"",
            "\"ftp://\"",
            "[]",
            "[\"10.0.0.0/8\", \"::/0\", \"x/99\"]",
            "{}",
            "1979-05-27T07:32:00Z",
            "\"\u{0}\"",
        ])
        .prop_map(str::to_owned),
        "\"\\PC{0,30}\"".prop_map(|s| s.replace('\\', "\\\\")),
        "\\PC{0,20}",
    ]
}

fn toml_doc() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(sections()),
            prop::collection::vec((prop::sample::select(key_names()), toml_value()), 0..6),
        ),
        0..5,
    )
    .prop_map(|sections| {
        let mut doc = String::new();
        for (section, keys) in sections {
            doc.push_str(&format!("[{section}]\n"));
            for (k, v) in keys {
                doc.push_str(&format!("{k} = {v}\n"));
            }
        }
        doc
    })
}

#[test]
fn the_config_parser_never_panics() {
    // Arbitrary text, TOML-shaped documents over the real sections and keys,
    // and arbitrary TOKTOK_* variables: an error message, never a panic.
    runner()
        .run(
            &(
                "\\PC{0,200}",
                toml_doc(),
                prop::collection::vec(
                    (
                        prop::sample::select(sections()),
                        prop::sample::select(key_names()),
                        toml_value(),
                    ),
                    0..3,
                ),
            ),
            |(text, doc, env)| {
                let _ = Config::from_sources(Some(&text), std::iter::empty());
                let env: Vec<(String, String)> = env
                    .into_iter()
                    .map(|(s, k, v)| {
                        (
                            format!("TOKTOK_{}__{}", s.to_uppercase(), k.to_uppercase()),
                            v.trim_matches('"').to_owned(),
                        )
                    })
                    .collect();
                if let Err(e) = Config::from_sources(Some(&doc), env) {
                    prop_assert!(!e.to_string().is_empty());
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn an_ip_address_as_relying_party_is_warned_about_except_loopback() {
    let c = parse("[server]\npublic_url = \"https://192.0.2.7\"").unwrap();
    assert!(
        c.warnings()
            .iter()
            .any(|w| w.starts_with("webauthn.rp_id is the IP address 192.0.2.7")),
        "{:?}",
        c.warnings()
    );
    let rp = |c: &Config| {
        c.warnings()
            .into_iter()
            .filter(|w| w.starts_with("webauthn"))
            .count()
    };
    let c = parse("[server]\npublic_url = \"https://auth.example.com\"").unwrap();
    assert_eq!(rp(&c), 0);
    let c =
        parse("[server]\npublic_url = \"https://192.0.2.7\"\n[webauthn]\nenabled = false").unwrap();
    assert_eq!(rp(&c), 0);
    assert_eq!(
        rp(&Config::default()),
        0,
        "loopback: the development default"
    );
}

#[test]
fn branding_values_refused() {
    for bad in ["red", "#12", "#12345g", "1f5fbf", "#2b6cb0; x:y", ""] {
        let e = err(parse(&format!("[branding]\nprimary_color = \"{bad}\"")));
        assert!(
            e.starts_with("branding.primary_color: expected a colour"),
            "{e}"
        );
    }
    assert!(err(parse("[branding]\nname = \"\"")).starts_with("branding.name"));
    assert!(err(parse("[branding]\nname = \"a\\nb\"")).starts_with("branding.name"));
    let long = "n".repeat(65);
    assert_eq!(
        err(parse(&format!("[branding]\nname = \"{long}\""))),
        "branding.name: must be at most 64 characters"
    );
    assert!(err(parse("[branding]\nlogo = \"javascript:alert(1)\"")).starts_with("branding.logo"));
    let c = parse("[branding]\nprimary_color = \"#ABC\"\nlogo = \"\"").unwrap();
    assert_eq!(c.branding.primary_color, "#abc");
    // The pages load nothing from another origin: a logo is a file.
    let e = err(parse(
        "[branding]\nlogo = \"https://cdn.example.com/l.svg\"",
    ));
    assert!(
        e.starts_with("branding.logo: must be the path of an image file"),
        "{e}"
    );
    let e = err(parse("[branding]\nlogo = \"/etc/toktok/logo.exe\""));
    assert!(e.contains("must end in .png, .svg"), "{e}");
    let c = parse("[branding]\nlogo = \" /etc/toktok/Logo.PNG \"").unwrap();
    assert_eq!(c.branding.logo, PathBuf::from("/etc/toktok/Logo.PNG"));
    for bad in [
        "help",
        "a@b",
        "Help <help@example.com>",
        "a@b@example.com",
        "a b@example.com",
        "x@.example.com",
    ] {
        let e = err(parse(&format!("[branding]\nsupport_email = \"{bad}\"")));
        assert!(
            e.starts_with("branding.support_email: must be one plain address"),
            "{bad}: {e}"
        );
    }
    let c = parse("[branding]\nsupport_email = \"help@example.com\"").unwrap();
    assert_eq!(c.branding.support_email, "help@example.com");
}

#[test]
fn default_locale_is_one_of_the_four() {
    assert_eq!(Config::default().branding.default_locale.as_str(), "en");
    let c = parse("[branding]\ndefault_locale = \"de\"\nmessages_dir = \" /etc/m \"").unwrap();
    assert_eq!(c.branding.default_locale.as_str(), "de");
    assert_eq!(c.branding.messages_dir, PathBuf::from("/etc/m"));
    for bad in ["it", "fr-CA", "FR", ""] {
        assert_eq!(
            err(parse(&format!("[branding]\ndefault_locale = \"{bad}\""))),
            format!(
                "branding.default_locale: expected one of \"en\", \"fr\", \"de\", \"es\", got \"{bad}\""
            )
        );
    }
}

#[test]
fn an_authorization_code_lives_at_most_ten_minutes() {
    assert_eq!(Config::default().oidc.code_ttl, Duration::from_secs(60));
    assert_eq!(
        parse("[oidc]\ncode_ttl = \"10m\"").unwrap().oidc.code_ttl,
        Duration::from_secs(600)
    );
    let e = err(parse("[oidc]\ncode_ttl = \"11m\""));
    assert!(
        e.contains("oidc.code_ttl") && e.contains("at most 10m"),
        "{e}"
    );
}

#[test]
fn with_oidc_on_the_issuer_is_the_public_url() {
    let c = parse("[server]\npublic_url = \"https://auth.example.com\"\n[oidc]\nenabled = true")
        .unwrap();
    assert_eq!(c.jwt.issuer, "https://auth.example.com");
    let c = parse(
        "[server]\npublic_url = \"https://auth.example.com\"\n[jwt]\nissuer = \"https://auth.example.com\"\n[oidc]\nenabled = true",
    )
    .unwrap();
    assert_eq!(c.jwt.issuer, "https://auth.example.com");
    let e = err(parse(
        "[server]\npublic_url = \"https://auth.example.com\"\n[jwt]\nissuer = \"acme\"\n[oidc]\nenabled = true",
    ));
    assert!(
        e.starts_with("jwt.issuer: must be server.public_url (\"https://auth.example.com\")"),
        "{e}"
    );
    let c = parse("[jwt]\nissuer = \"acme\"").unwrap();
    assert_eq!(c.jwt.issuer, "acme");
}

const GOOGLE: &str = "[[providers]]\nid = \"google\"\nkind = \"oidc\"\nissuer = \"https://accounts.google.com\"\nclient_id = \"cid\"\n";

#[test]
fn a_provider_takes_its_secret_from_the_environment() {
    let env = [(
        "TOKTOK_PROVIDERS__GOOGLE__CLIENT_SECRET".to_owned(),
        "s3cret".to_owned(),
    )];
    let c = Config::from_sources(Some(GOOGLE), env).unwrap();
    let p = &c.providers[0];
    assert_eq!(p.id, "google");
    assert_eq!(p.name, "google");
    assert_eq!(p.client_secret.expose(), "s3cret");
    assert_eq!(p.scopes, ["openid", "email", "profile"]);
    assert!(p.enabled);
    // Without it, the error names the variable.
    let e = err(parse(GOOGLE));
    assert!(
        e.contains("providers[0].client_secret")
            && e.contains("TOKTOK_PROVIDERS__GOOGLE__CLIENT_SECRET"),
        "{e}"
    );
    // A variable for a provider the file does not declare is an error.
    let env = [(
        "TOKTOK_PROVIDERS__GITLAB__CLIENT_SECRET".to_owned(),
        "x".to_owned(),
    )];
    let e = Config::from_sources(Some(GOOGLE), env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no [[providers]] entry has id \"gitlab\""),
        "{e}"
    );
}

#[test]
fn github_gets_its_endpoints_and_scopes_by_default() {
    let c = parse("[[providers]]\nid = \"github\"\nkind = \"github\"\nclient_id = \"c\"\nclient_secret = \"s\"\n").unwrap();
    let p = &c.providers[0];
    assert_eq!(
        p.authorization_url,
        "https://github.com/login/oauth/authorize"
    );
    assert_eq!(p.api_url, "https://api.github.com");
    assert_eq!(p.scopes, ["read:user", "user:email"]);
}

#[test]
fn bad_provider_entries_are_refused_by_name() {
    let with = |extra: &str| format!("{GOOGLE}client_secret = \"s\"\n{extra}");
    for (toml, expected) in [
        (
            with("colour = \"red\"\n"),
            "unknown key `providers[0].colour`",
        ),
        (with("scopes = [\"email\"]\n"), "must include \"openid\""),
        (
            with("response_mode = \"fragment\"\n"),
            "providers[0].response_mode",
        ),
        (
            with("api_url = \"https://api.example.com\"\n"),
            "only for kind = \"github\"",
        ),
        (
            with("team_id = \"T\"\n"),
            "team_id, key_id and private_key go together",
        ),
        (
            GOOGLE.replace("google\"\nkind", "Google!\"\nkind") + "client_secret = \"s\"\n",
            "providers[0].id",
        ),
        (
            GOOGLE.replace("https://accounts.google.com", "http://accounts.google.com")
                + "client_secret = \"s\"\n",
            "http:// only on a loopback host",
        ),
        (
            GOOGLE.replace("oidc", "saml") + "client_secret = \"s\"\n",
            "expected \"oidc\" or \"github\"",
        ),
        (
            format!("{}{}", with(""), with("")),
            "used by an earlier [[providers]] entry",
        ),
    ] {
        let e = err(parse(&toml));
        assert!(e.contains(expected), "{toml}\n→ {e}");
    }
    // Loopback http is for development and tests.
    let c = parse(
        &(GOOGLE.replace("https://accounts.google.com", "http://127.0.0.1:9000/")
            + "client_secret = \"s\"\n"),
    )
    .unwrap();
    assert_eq!(c.providers[0].issuer, "http://127.0.0.1:9000");
}

#[test]
fn allowed_redirects_are_absolute_urls_without_userinfo_query_or_fragment() {
    let c = parse("[accounts]\nallowed_redirects = [\"https://APP.example.com/done\"]").unwrap();
    assert_eq!(
        c.accounts.allowed_redirects,
        ["https://app.example.com/done"]
    );
    for bad in [
        "/done",
        "https://user@app.example.com/",
        "https://app.example.com/?a=1",
        "https://app.example.com/#x",
        "http://app.example.com/",
        "javascript:alert(1)",
    ] {
        let e = err(parse(&format!(
            "[accounts]\nallowed_redirects = [\"{bad}\"]"
        )));
        assert!(e.contains("accounts.allowed_redirects"), "{bad}: {e}");
    }
}

// --- hooks and claims -----------------------------------------------------

#[test]
fn hooks_sections_read_from_the_file_and_the_environment() {
    let c = parse(
        "[hooks]\nallow_private_targets = true\ntimeout = \"3s\"\n\
         [hooks.access_token]\nurl = \"http://127.0.0.1:9/claims\"\n\
         secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\ntimeout = \"250ms\"\n\
         on_error = \"skip\"\n[claims]\nfrom_app_metadata = [\"plan\", \"org\"]",
    )
    .unwrap();
    assert!(c.hooks.allow_private_targets);
    assert_eq!(c.hooks.timeout, Duration::from_secs(3));
    assert_eq!(c.hooks.access_token.url, "http://127.0.0.1:9/claims");
    assert_eq!(c.hooks.access_token.timeout, Duration::from_millis(250));
    assert_eq!(c.hooks.access_token.on_error, super::HookOnError::Skip);
    assert_eq!(c.claims.from_app_metadata, ["plan", "org"]);
    assert!(!format!("{c:?}").contains("whsec_"));
    let c = parse_env(&[
        ("TOKTOK_HOOKS__ACCESS_TOKEN__URL", "https://h.example/x"),
        (
            "TOKTOK_HOOKS__ACCESS_TOKEN__SECRET",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
        ("TOKTOK_HOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        ("TOKTOK_CLAIMS__FROM_APP_METADATA", "plan,org"),
    ])
    .unwrap();
    assert_eq!(c.hooks.access_token.url, "https://h.example/x");
    assert!(c.hooks.allow_private_targets);
    assert_eq!(c.claims.from_app_metadata, ["plan", "org"]);
}

#[test]
fn bad_hooks_settings_are_refused_by_name() {
    let secret = "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"";
    for (toml, key, says) in [
        (
            "[hooks.access_token]\nurl = \"ftp://x\"",
            "hooks.access_token.url",
            "",
        ),
        (
            "[hooks.access_token]\nurl = \"https://x.example\"",
            "hooks.access_token.secret",
            "required",
        ),
        (
            "[hooks.access_token]\nsecret = \"hunter2\"",
            "hooks.access_token.secret",
            "whsec_",
        ),
        (
            "[hooks.access_token]\nsecret = \"whsec_AAAA\"",
            "hooks.access_token.secret",
            "24 to 64",
        ),
        (
            "[hooks.access_token]\ntimeout = \"5ms\"",
            "hooks.access_token.timeout",
            "10ms",
        ),
        (
            "[hooks.access_token]\ntimeout = \"11s\"",
            "hooks.access_token.timeout",
            "10s",
        ),
        (
            "[hooks.access_token]\ntimeout = \"fast\"",
            "hooks.access_token.timeout",
            "500ms",
        ),
        (
            "[hooks.access_token]\non_error = \"ignore\"",
            "hooks.access_token.on_error",
            "\"deny\"",
        ),
        (
            "[hooks.access_token]\nretries = 3",
            "hooks.access_token.retries",
            "unknown key",
        ),
        (
            "[claims]\nfrom_app_metadata = [\"sub\"]",
            "claims.from_app_metadata",
            "sets itself",
        ),
        (
            "[claims]\nfrom_app_metadata = [\"a b\"]",
            "claims.from_app_metadata",
            "not a claim",
        ),
        (
            "[claims]\nfrom_app_metadata = [\"p\", \"p\"]",
            "claims.from_app_metadata",
            "twice",
        ),
        ("[hooks]\ntimeout = \"0s\"", "hooks.timeout", ""),
    ] {
        let e = err(parse(toml));
        assert!(e.contains(key) && e.contains(says), "{toml}: {e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
    let ok = format!("[hooks.access_token]\nurl = \"https://x.example\"\n{secret}");
    parse(&ok).unwrap();
}

#[test]
fn firebase_hash_parameters_are_checked_at_start() {
    let good = "[import.firebase]\nsigner_key = \"jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==\"\n";
    let c = parse(good).unwrap();
    assert!(c.import.firebase.configured());
    assert_eq!(
        (c.import.firebase.rounds, c.import.firebase.mem_cost),
        (8, 14)
    );
    assert!(!Config::default().import.firebase.configured());
    for (toml, key, says) in [
        (
            "[import.firebase]\nsigner_key = \"not base64!\"",
            "import.firebase.signer_key",
            "base64",
        ),
        (
            "[import.firebase]\nsalt_separator = \"%%\"",
            "import.firebase.salt_separator",
            "base64",
        ),
        (
            "[import.firebase]\nrounds = 0",
            "import.firebase.rounds",
            "",
        ),
        (
            "[import.firebase]\nmem_cost = 25",
            "import.firebase.mem_cost",
            "",
        ),
        (
            "[import.firebase]\nrounds = 32\nmem_cost = 24",
            "import.firebase.mem_cost",
            "256 MiB",
        ),
        (
            "[import.firebase]\nsigner = \"x\"",
            "import.firebase.signer",
            "unknown key",
        ),
        ("[import]\nbatch = 3", "import.batch", "unknown key"),
    ] {
        let message = err(parse(toml));
        assert!(
            message.contains(key) && message.contains(says),
            "{toml}: {message}"
        );
    }
    let c = parse_env(&[("TOKTOK_IMPORT__FIREBASE__SIGNER_KEY", "AAAA")]).unwrap();
    assert_eq!(c.import.firebase.signer_key.expose(), "AAAA");
}
