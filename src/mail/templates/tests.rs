use super::*;

fn vars<'a>() -> Vars<'a> {
    Vars {
        app_name: "Acme",
        link: "https://auth.example.com/v1/auth/confirm-email?token=abc_DEF-123",
        expires_in: "24 hours",
        email: "ann@example.com",
        new_email: "new@example.com",
        code: "123456",
    }
}

#[test]
fn every_builtin_kind_renders_its_link_and_names() {
    let t = Templates::load(Path::new("")).unwrap();
    for kind in MailKind::ALL {
        let r = t.render(kind, Locale::En, &vars());
        assert!(r.subject.contains("Acme"), "{kind:?}: {}", r.subject);
        assert!(!r.subject.contains("{{"), "{kind:?}");
        assert!(!r.text.contains("{{") && !r.html.contains("{{"), "{kind:?}");
        assert!(r.text.contains("ann@example.com") || kind == MailKind::ConfirmNewEmail);
        let has_link = matches!(
            kind,
            MailKind::ConfirmAccount
                | MailKind::ResetPassword
                | MailKind::ConfirmNewEmail
                | MailKind::PasswordChangedNotice
                | MailKind::EmailCode
        );
        assert_eq!(r.text.contains(vars().link), has_link, "{kind:?}");
        assert_eq!(r.html.contains(vars().link), has_link, "{kind:?}");
        if has_link {
            assert!(r.text.contains("24 hours"), "{kind:?}");
            // The link stands alone on its line in the text body.
            assert!(r.text.lines().any(|l| l == vars().link), "{kind:?}");
        }
        assert!(r.html.starts_with("<!DOCTYPE html>"));
    }
    let r = t.render(MailKind::EmailChangeNotice, Locale::En, &vars());
    assert!(r.text.contains("new@example.com"));
    assert_eq!(
        t.render(MailKind::ResetPassword, Locale::En, &vars())
            .subject,
        "Reset your Acme password"
    );
}

/// Every built-in message, rendered with fixed values that need every
/// kind of escaping, is pinned byte for byte (a SHA-256 per part): the
/// built-ins moving from code to files changed no mail (the HTML hashes
/// moved once since, when the documents got `<html lang="en">`).
#[test]
fn builtin_renders_are_pinned() {
    const PINNED: [(&str, &str, &str, &str); 10] = [
        (
            "confirm_account",
            "dfb8cadd65018c42f6a40e5f2c422eb9db1daeb8abd241dcd00ce22bb44bac6f",
            "73ff05016b0091c603e75e1f756dc3c49f209b91ac9623b558867a2c82979251",
            "a2e4241e0b030f960a5cfc4bcaf05b8134cc4230d85383b7b400c04506b5a314",
        ),
        (
            "reset_password",
            "72856a9ce92c96e1722f8b78b1750c3d59dd7521794045829ebe778abf41cb35",
            "1895b38d20ad43da51178f0d46b88fe84fa84aea8a0cb8245403d8adff9274d1",
            "555de9db986ae5faf7e74d33e470914bee8d49f8c4fdf2abcb76b88ada147544",
        ),
        (
            "confirm_new_email",
            "5d1c290ae45f5c3fd555b5e0fed555c22f86251022c5de9e5ed4a7688e4b15a2",
            "5613fa2636c6e3304a9e2f303e8c8ae9cbf8a6f2c46a9301b8c543afa73f0ac4",
            "876dcab9ca9b9f3bd53fa336ae240b132a5425994441cf2e6f5b43abeb99dea1",
        ),
        (
            "email_change_notice",
            "d9ecca4e8e21d07a2e750b3d7afa99d34a01ecdc403d3d4f0c3c87d110d2e401",
            "6b95b3aa21ff8d5bb4953d911fcbc1ba8b5481479eda0150a88497174ae3c180",
            "23196052a57ee6379b07a055f0b9b7c787cda3469008f5771645a98a5ad52d94",
        ),
        (
            "password_changed_notice",
            "2c079e17ca9e7aa5883c9ab7ec4acfcd3feadd91a78f547b4094814b8a18033e",
            "58a1cb7abcacc381bbea613524b44e23a7ec373277f04c6eb192b41e29c5448c",
            "27defb7b79c155e37e02a945d1ba52337030fe921ad0a6cf00600836aaf2325f",
        ),
        (
            "registration_attempt",
            "806d0b20e5b95f59da4cc6815354fb0ece228369cf0d480ad21b4e7f6fc4d34b",
            "f147011338dabcf8f84c74f8a97a37f44a80d6fb920ae046819c6bd823785302",
            "8f0d8b409599020e7813e70b3314aaf37bb2bf2bef0d2df33a6b1e669957cee7",
        ),
        (
            "passkey_added_notice",
            "522a79d7899ef9015ae75e23e7d8c1f999365e5f56285ea439e1e1a1501a1c4b",
            "172acbec34aff814c3d4b5ff87546f5f658551c46d5c030790a5c7146e500d0b",
            "394fb1780df891f5118fd64629c0fb5d7d60d8a8efe4ab7f81e36e8ba31d11b1",
        ),
        (
            "email_code",
            "af599924dc780f2c9db9c4c96fc5e4c51fb44c859ea3330332d4bdd2b05e8051",
            "9f8a169378064b7aca5388c488922dece22c67d6344f605b0015c7c33930c212",
            "aa04e32e2fce8b90dfdcbfb0ee10bee138202a09d0cf81650be147eca9359ef6",
        ),
        (
            "totp_disabled_notice",
            "09771ad384efbdf0d6349578650e518d281aa6a37c4dff7532da12d3c37d4a64",
            "5d2126044e11009e8b91bf56f0cb4d656d878264828616681a3c96a97e4f9acd",
            "4a4c43cf1b9aa50b7bc13e300e96ef5849d1edbe71622123b8bb9cdd90c5fd4d",
        ),
        (
            "factors_reset_notice",
            "04fde3b2a9d65a9fd48719852a0e74a2525f2e13dd556eb6c1e3cd0fdf0637fe",
            "4a7bafa0fd1680f422d5d59e0739a98e885d79aee7fb86cf34826b787caccef8",
            "8944a934ce92cfb3df395b3538482888de7941c554fce2d38cbc8ccf54f1c523",
        ),
    ];
    let hex = |text: &str| {
        let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let t = Templates::load(Path::new("")).unwrap();
    let v = Vars {
        app_name: "A&B <Acme> \"x\" 'y'\r\nBcc: z",
        link: "https://auth.example.com/v1/auth/confirm-email?token=abc_DEF-123&x=<1>",
        expires_in: "24 hours",
        email: "ann+\"o'k\"@example.com",
        new_email: "new&<b>@example.com",
        code: "0123<4>",
    };
    let mut got = Vec::new();
    for kind in MailKind::ALL {
        let r = t.render(kind, Locale::En, &v);
        got.push((kind.as_str(), hex(&r.subject), hex(&r.text), hex(&r.html)));
    }
    let got_ref: Vec<(&str, &str, &str, &str)> = got
        .iter()
        .map(|(k, s, t, h)| (*k, s.as_str(), t.as_str(), h.as_str()))
        .collect();
    assert_eq!(got_ref, PINNED, "{got:#?}");
}

#[test]
fn html_escapes_values_but_text_does_not() {
    let t = Templates::load(Path::new("")).unwrap();
    let v = Vars {
        app_name: "A&B <script>",
        email: "\"x\"@example.com",
        link: "https://h/p?token=a&b=\"c\"",
        ..vars()
    };
    let r = t.render(MailKind::ConfirmAccount, Locale::En, &v);
    assert!(r.html.contains("A&amp;B &lt;script&gt;"));
    assert!(!r.html.contains("<script>"));
    assert!(r.html.contains("&quot;x&quot;@example.com"));
    assert!(r
        .html
        .contains("href=\"https://h/p?token=a&amp;b=&quot;c&quot;\""));
    assert!(r.text.contains("A&B <script>"));
    assert!(r.subject.contains("A&B <script>"));
}

#[test]
fn a_subject_stays_one_line() {
    let t = Templates::load(Path::new("")).unwrap();
    let v = Vars {
        app_name: "Acme\r\nBcc: evil@example.com",
        ..vars()
    };
    let subject = t.render(MailKind::ConfirmAccount, Locale::En, &v).subject;
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
}

/// The `mail_template` fuzz target's find: `lines()` ends a line at LF
/// only, so a bare CR stayed in the subject, a header.
#[test]
fn a_subject_with_a_control_character_is_refused() {
    for source in [
        "Hello\r{{app_name}}",
        "a\rb\nbody",
        "tab\there",
        "nul\u{0}",
        "del\u{7f}",
    ] {
        let e = template_of("subject", source).unwrap_err();
        assert!(e.contains("control character"), "{source:?}: {e}");
    }
    // CRLF line ends are fine: the subject is the first line.
    let t = template_of("subject", "Welcome to {{app_name}}\r\nbody").unwrap();
    assert_eq!(t.render(&vars(), Escape::Line), "Welcome to Acme");
    assert!(template_of("txt", "a\rb").is_ok());
}

#[test]
fn parse_variables_with_spaces_and_literal_braces() {
    let t = Template::parse("a {{ link }} b { c } {{email}}").unwrap();
    assert_eq!(
        t.render(&vars(), Escape::None),
        format!("a {} b {{ c }} ann@example.com", vars().link)
    );
    assert_eq!(
        Template::parse("x {{nope}}").unwrap_err(),
        "unknown variable {{nope}} (known: {{app_name}}, {{link}}, {{expires_in}}, {{email}}, {{new_email}}, {{code}})"
    );
    assert!(Template::parse("x {{link")
        .unwrap_err()
        .contains("never closed"));
    assert_eq!(Template::parse("").unwrap(), Template(vec![]));
}

#[test]
fn overrides_replace_parts_and_keep_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("reset_password.subject"),
        "  {{app_name}}: new password  \nsecond line ignored\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("reset_password.html"),
        "<a href=\"{{link}}\">{{ email }}</a>",
    )
    .unwrap();
    let t = Templates::load(dir.path()).unwrap();
    let r = t.render(MailKind::ResetPassword, Locale::En, &vars());
    assert_eq!(r.subject, "Acme: new password");
    assert_eq!(
        r.html,
        format!("<a href=\"{}\">ann@example.com</a>", vars().link)
    );
    // Untouched: the built-in text, and other kinds.
    assert!(r.text.contains("choose a new password"));
    let other = t.render(MailKind::ConfirmAccount, Locale::En, &vars());
    assert_eq!(other.subject, "Confirm your Acme account");
}

#[test]
fn override_errors_name_the_file_and_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("confirm_account.txt");
    std::fs::write(&file, "open {{link}} before {{expiry}}").unwrap();
    let e = Templates::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains(&file.display().to_string()), "{e}");
    assert!(e.contains("unknown variable {{expiry}}"), "{e}");

    std::fs::write(&file, "fine {{link}}").unwrap();
    std::fs::write(dir.path().join("confirm_account.subject"), "\n").unwrap();
    let e = Templates::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("confirm_account.subject: the subject is empty"),
        "{e}"
    );
}

#[test]
fn a_missing_or_unreadable_directory_is_an_error() {
    let e = Templates::load(Path::new("/nonexistent/toktok-templates"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("email.templates_dir /nonexistent/toktok-templates: "),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let e = Templates::load(&file).unwrap_err().to_string();
    assert!(e.ends_with("is not a directory"), "{e}");
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("confirm_account.html");
    std::fs::write(&file, "x").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&file).is_ok() {
        return; // running as root: permissions do not bind
    }
    let e = Templates::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("confirm_account.html"), "{e}");
}

#[test]
fn durations_in_words() {
    let words = |s: u64| human_duration(Duration::from_secs(s));
    assert_eq!(words(86_400), "24 hours");
    assert_eq!(words(3600), "1 hour");
    assert_eq!(words(2 * 86_400), "2 days");
    assert_eq!(words(30 * 60), "30 minutes");
    assert_eq!(words(90 * 60), "90 minutes");
    assert_eq!(words(60), "1 minute");
    assert_eq!(words(90), "90 seconds");
    assert_eq!(words(1), "1 second");
}

/// The built-in files are a starting point for an operator: copied into
/// `email.templates_dir` unchanged (each language's folder as it is),
/// they give the same mails.
#[test]
fn the_builtin_files_work_unchanged_as_overrides() {
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mail/templates/builtin");
    let dir = tempfile::tempdir().unwrap();
    let mut copied = 0;
    for locale in Locale::ALL {
        let to = dir.path().join(locale.as_str());
        std::fs::create_dir(&to).unwrap();
        for entry in std::fs::read_dir(builtin.join(locale.as_str())).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            copied += 1;
        }
    }
    assert_eq!(copied, 3 * MailKind::ALL.len() * Locale::ALL.len());
    let builtins = Templates::load(Path::new("")).unwrap();
    let overridden = Templates::load(dir.path()).unwrap();
    for locale in Locale::ALL {
        for kind in MailKind::ALL {
            assert_eq!(
                overridden.render(kind, locale, &vars()),
                builtins.render(kind, locale, &vars()),
                "{locale} {kind:?}"
            );
        }
    }
}

/// The variables a template file uses.
fn variables(part: &str, source: &str) -> Vec<String> {
    let mut out: Vec<String> = template_of(part, source)
        .unwrap()
        .0
        .iter()
        .filter_map(|p| match p {
            Part::Var(v) => Some(format!("{v:?}")),
            Part::Text(_) => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The catalogue of mails is complete: every language folder holds
/// exactly English's files (a missing one would not even compile, a
/// stray one is caught here), each uses the same variables as English's,
/// and none is an English copy.
#[test]
fn every_language_has_every_template_with_englishs_variables() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mail/templates/builtin");
    let files = |locale: Locale| {
        let mut names: Vec<String> = std::fs::read_dir(folder.join(locale.as_str()))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let english = files(Locale::En);
    assert_eq!(english.len(), 3 * MailKind::ALL.len(), "{english:?}");
    let folders: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders.len(), Locale::ALL.len(), "{folders:?}");
    for locale in Locale::ALL {
        assert_eq!(files(locale), english, "{locale}");
        for kind in MailKind::ALL {
            let [en_parts, parts] = [builtin(Locale::En, kind), builtin(locale, kind)];
            for (i, part) in PARTS.iter().enumerate() {
                assert_eq!(
                    variables(part, parts[i]),
                    variables(part, en_parts[i]),
                    "{locale}/{}.{part} uses other variables than English",
                    kind.as_str()
                );
                if locale != Locale::En {
                    assert_ne!(parts[i], en_parts[i], "{locale}/{}.{part}", kind.as_str());
                }
            }
        }
    }
}

/// Words each language's mails are sure to hold, and English's not.
fn marker(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Hello,",
        Locale::Fr => "Bonjour,",
        Locale::De => "Hallo,",
        Locale::Es => "Hola:",
    }
}

#[test]
fn every_kind_renders_in_every_language() {
    let t = Templates::load(Path::new("")).unwrap();
    for locale in Locale::ALL {
        for kind in MailKind::ALL {
            let r = t.render(kind, locale, &vars());
            let en = t.render(kind, Locale::En, &vars());
            let what = format!("{locale} {kind:?}");
            assert!(r.subject.contains("Acme"), "{what}: {}", r.subject);
            assert!(!r.subject.contains('\n'), "{what}");
            assert!(
                !(r.subject.clone() + &r.text + &r.html).contains("{{"),
                "{what}"
            );
            assert!(r.text.starts_with(marker(locale)), "{what}: {}", r.text);
            assert!(
                r.html.contains(&format!("<p>{}</p>", marker(locale))),
                "{what}"
            );
            assert!(
                r.html.contains(&format!("<html lang=\"{locale}\">")),
                "{what}"
            );
            for value in [vars().link, vars().email, vars().new_email, vars().code] {
                assert_eq!(
                    r.text.contains(value),
                    en.text.contains(value),
                    "{what}: {value}"
                );
                assert_eq!(
                    r.html.contains(value),
                    en.html.contains(value),
                    "{what}: {value}"
                );
            }
            if r.text.contains(vars().link) {
                assert!(r.text.lines().any(|l| l == vars().link), "{what}");
                assert!(r.text.contains("24 hours"), "{what}");
            }
            if locale != Locale::En {
                assert_ne!(r.subject, en.subject, "{what}");
            }
        }
    }
    let fr = t.render(MailKind::ResetPassword, Locale::Fr, &vars());
    assert_eq!(fr.subject, "Réinitialisez votre mot de passe Acme");
    let de = t.render(MailKind::ConfirmAccount, Locale::De, &vars());
    assert_eq!(de.subject, "Bestätigen Sie Ihr Konto bei Acme");
}

#[test]
fn a_language_folder_overrides_that_language_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("reset_password.subject"),
        "All: {{app_name}}\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("fr")).unwrap();
    std::fs::write(
        dir.path().join("fr/reset_password.subject"),
        "Nouveau mot de passe {{app_name}}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("fr/confirm_account.txt"), "Salut {{email}}").unwrap();
    let t = Templates::load(dir.path()).unwrap();
    let subject = |locale| t.render(MailKind::ResetPassword, locale, &vars()).subject;
    assert_eq!(subject(Locale::Fr), "Nouveau mot de passe Acme");
    assert_eq!(subject(Locale::En), "All: Acme");
    assert_eq!(subject(Locale::De), "All: Acme");
    let text = |locale| t.render(MailKind::ConfirmAccount, locale, &vars()).text;
    assert_eq!(text(Locale::Fr), "Salut ann@example.com");
    assert!(text(Locale::Es).starts_with("Hola:"));
    // The rest of French stays built in.
    let fr = t.render(MailKind::ResetPassword, Locale::Fr, &vars());
    assert!(fr.text.starts_with("Bonjour,"), "{}", fr.text);

    // A language folder's bad file names itself.
    std::fs::write(dir.path().join("fr/email_code.html"), "{{codes}}").unwrap();
    let e = Templates::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("fr/email_code.html"), "{e}");
    assert!(e.contains("unknown variable {{codes}}"), "{e}");
}

#[test]
fn durations_in_each_language() {
    let catalogues = Catalogues::builtin().unwrap();
    let words = |locale, s: u64| duration_in(&catalogues, locale, Duration::from_secs(s));
    assert_eq!(words(Locale::En, 86_400), "24 hours");
    assert_eq!(words(Locale::Fr, 86_400), "24 heures");
    assert_eq!(words(Locale::De, 2 * 86_400), "2 Tage");
    assert_eq!(words(Locale::Es, 60), "1 minuto");
    assert_eq!(words(Locale::Fr, 1), "1 seconde");
}
