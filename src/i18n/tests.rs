use std::path::Path;

use super::*;

#[test]
fn every_key_is_in_every_catalogue_with_the_same_arguments() {
    let english = builtin_arguments(Locale::En).unwrap();
    assert!(english.len() > 100, "{}", english.len());
    for locale in Locale::ALL {
        let other = builtin_arguments(locale).unwrap();
        for (key, vars) in &english {
            assert_eq!(
                other.get(key),
                Some(vars),
                "{locale}: {key} is missing or uses other arguments"
            );
        }
        for key in other.keys() {
            assert!(
                english.contains_key(key),
                "{locale}: {key} is not in English"
            );
        }
    }
}

#[test]
fn each_file_holds_the_same_keys_in_every_language() {
    // A key in the wrong file would still be found, but translators work
    // file by file.
    for (_, file, source) in BUILTIN.iter().filter(|(l, _, _)| *l == Locale::En) {
        let en = overrides::messages(&overrides::parse(Path::new(file), (*source).into()).unwrap());
        for (locale, other_file, other) in BUILTIN {
            if other_file == file {
                let keys = overrides::messages(
                    &overrides::parse(Path::new(file), (*other).into()).unwrap(),
                );
                assert_eq!(
                    keys.keys().collect::<Vec<_>>(),
                    en.keys().collect::<Vec<_>>(),
                    "{locale}/{file}"
                );
            }
        }
    }
}

#[test]
fn text_formats_arguments_and_plurals() {
    let c = Catalogues::builtin().unwrap();
    assert_eq!(
        c.text(
            Locale::En,
            "login-signed-in-text",
            &[("email", "a@b.c".into())]
        ),
        "You are signed in as a@b.c."
    );
    assert_eq!(
        c.text(Locale::Fr, "mail-duration-hours", &[("n", 1u64.into())]),
        "1 heure"
    );
    assert_eq!(
        c.text(Locale::Fr, "mail-duration-hours", &[("n", 24u64.into())]),
        "24 heures"
    );
    assert_eq!(
        c.text(Locale::De, "mail-duration-days", &[("n", 2u64.into())]),
        "2 Tage"
    );
    assert_eq!(c.text(Locale::Es, "consent-allow", &[]), "Permitir");
    // French counts 0 as singular ("one"): a count that can be zero needs
    // its own [0] variant, or "no passkey" reads "one passkey".
    assert_eq!(
        c.text(
            Locale::Fr,
            "admin-factor-passkeys",
            &[("count", 0u64.into())]
        ),
        "Aucune clé d’accès"
    );
    assert_eq!(
        c.text(
            Locale::Fr,
            "admin-factor-passkeys",
            &[("count", 1u64.into())]
        ),
        "Une clé d’accès"
    );
    // No bidi isolation marks around arguments.
    assert!(!c
        .text(Locale::De, "consent-title", &[("client", "Wiki".into())])
        .contains('\u{2068}'));
    // A key nobody has is the key itself (and an error in the log).
    assert_eq!(c.text(Locale::Fr, "no-such-key", &[]), "no-such-key");
}

#[test]
fn negotiation_follows_the_contracts_order() {
    let d = Locale::En;
    // The user's own locale first.
    assert_eq!(negotiate(Some("de"), Some("fr"), Some("es"), d), Locale::De);
    // An unsupported user locale is passed over.
    assert_eq!(negotiate(Some("it"), Some("fr"), Some("es"), d), Locale::Fr);
    // ui_locales in its order, the first supported one.
    assert_eq!(
        negotiate(None, Some("it fr-CA de"), Some("es"), d),
        Locale::Fr
    );
    assert_eq!(negotiate(None, Some("it pt"), Some("es"), d), Locale::Es);
    // Accept-Language, then the default.
    assert_eq!(negotiate(None, None, Some("de-AT,de;q=0.9"), d), Locale::De);
    assert_eq!(
        negotiate(None, None, Some("it, pt;q=0.5"), Locale::Fr),
        Locale::Fr
    );
    assert_eq!(negotiate(None, None, None, Locale::Es), Locale::Es);
    assert_eq!(negotiate(None, Some(""), Some(""), Locale::De), Locale::De);
}

#[test]
fn accept_language_is_ranked_by_q_value() {
    let best = |h| from_accept_language(h);
    assert_eq!(best("fr-CA"), Some(Locale::Fr));
    assert_eq!(best("en;q=0.5, de;q=0.8, es;q=0.7"), Some(Locale::De));
    assert_eq!(best("es;q=0.5, fr"), Some(Locale::Fr));
    // Equal weights keep their order.
    assert_eq!(best("de, fr"), Some(Locale::De));
    assert_eq!(best("it, fr;q=0.1, *;q=0.9"), Some(Locale::Fr));
    // q=0 means "not this one".
    assert_eq!(best("fr;q=0, de;q=0.2"), Some(Locale::De));
    assert_eq!(best("fr;q=0"), None);
    // Malformed weights drop their item, not the header.
    assert_eq!(best("fr;q=abc, es;q=0.3"), Some(Locale::Es));
    assert_eq!(best("fr;q=2, es;q=0.3"), Some(Locale::Es));
    assert_eq!(best("FR-fr;Q=0.4"), Some(Locale::Fr));
    assert_eq!(best("*"), None);
    assert_eq!(best(""), None);
    assert_eq!(best(",,;q=,"), None);
}

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_override_replaces_messages_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "fr/mine.ftl",
        "# Acme's words\nlogin-title = Bienvenue chez Acme\n",
    );
    write(
        dir.path(),
        "en/pages.ftl",
        "login-signed-in-text = Hello { $email }!\n",
    );
    let c = Catalogues::load(dir.path()).unwrap();
    assert_eq!(
        c.text(Locale::Fr, "login-title", &[]),
        "Bienvenue chez Acme"
    );
    // Other keys keep their built-in text, and other languages theirs.
    assert_eq!(c.text(Locale::Fr, "consent-allow", &[]), "Autoriser");
    assert_eq!(c.text(Locale::De, "login-title", &[]), "Anmelden");
    assert_eq!(
        c.text(Locale::En, "login-signed-in-text", &[("email", "x".into())]),
        "Hello x!"
    );
}

#[test]
fn a_bad_override_names_its_file_and_line() {
    let cases = [
        (
            "fr/a.ftl",
            "login-title = Bonjour\n\nno-such-key = x\n",
            "a.ftl:3: no-such-key is not a message toktok has",
        ),
        (
            "de/b.ftl",
            "# ok\nlogin-title = { $nope }\n",
            "b.ftl:2: login-title uses $nope, which toktok does not pass",
        ),
        (
            "es/c.ftl",
            "login-title = ok\n= nope\nconsent-allow = ok\n",
            "c.ftl:2: ",
        ),
        (
            "it/d.ftl",
            "login-title = Ciao\n",
            "it is not a language folder",
        ),
        ("en/e.txt", "login-title = Hi\n", "e.txt:1: not a .ftl file"),
        // The `catalogue` fuzz target's find: fluent-syntax 0.12 panicked.
        (
            "en/f.ftl",
            "login-title = ok\nconsent-allow = { \"\\u12\u{e9}\u{e9}\" }\n",
            "f.ftl:2: a \\u or \\U escape the Fluent parser cannot read",
        ),
    ];
    for (file, text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), file, text);
        let e = Catalogues::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains(expected), "{file}: {e}");
        if !file.starts_with("it/") {
            assert!(
                e.contains(&dir.path().join(file).display().to_string()),
                "{e}"
            );
        }
    }
    let e = Catalogues::load(Path::new("/no/such/dir"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("branding.messages_dir /no/such/dir: cannot be read"),
        "{e}"
    );
}
