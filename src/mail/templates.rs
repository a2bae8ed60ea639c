//! Templates: the subject, plain-text and HTML body of each [`MailKind`].
//!
//! Every kind has a built-in template. An operator can replace any part of
//! any kind with a file in `email.templates_dir`, named after
//! [`MailKind::as_str`]:
//!
//! | file                | replaces                                         |
//! |---------------------|--------------------------------------------------|
//! | `<kind>.subject`    | the subject (first line only; surrounding space trimmed) |
//! | `<kind>.txt`        | the plain-text body                              |
//! | `<kind>.html`       | the HTML body                                    |
//!
//! with `<kind>` one of `confirm_account`, `reset_password`,
//! `confirm_new_email`, `email_change_notice`, `password_changed_notice`,
//! `registration_attempt`. Files are read once, at start; a missing
//! directory, an unreadable file, an unclosed `{{` or an unknown variable
//! stops the start with a message naming the file, so a typo is found by the
//! operator and not by a user waiting for a mail.
//!
//! Variables, written `{{name}}` (spaces inside the braces allowed):
//!
//! | variable         | value                                                  |
//! |------------------|--------------------------------------------------------|
//! | `{{app_name}}`   | `email.app_name`                                       |
//! | `{{link}}`       | the link to follow (`{public_url}/v1/auth/…?token=…`); in the password-changed notice, a reset link; empty in the other notices |
//! | `{{expires_in}}` | the link's lifetime in words, e.g. `24 hours` (`email.link_ttl`) |
//! | `{{email}}`      | the recipient's address                                |
//! | `{{new_email}}`  | the new address of an email change; empty otherwise    |
//!
//! In HTML bodies every value is HTML-escaped; subjects and plain text take
//! values as they are (a subject is one line: line breaks in a value become
//! spaces). The template language has nothing else — no conditionals, no
//! loops, no includes — so a template can neither fail at send time nor
//! reach anything but these five values.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::MailKind;

/// The values a template may use. Borrowed: rendering copies only into the
/// output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vars<'a> {
    pub app_name: &'a str,
    pub link: &'a str,
    pub expires_in: &'a str,
    pub email: &'a str,
    pub new_email: &'a str,
}

/// A rendered message: what the transports send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why the templates could not be loaded: one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("email.templates_dir {}: {reason}", dir.display())]
    Dir { dir: PathBuf, reason: String },
    #[error("email template {}: {reason}", file.display())]
    File { file: PathBuf, reason: String },
}

/// The templates of every kind, parsed and checked. Cheap to share.
#[derive(Debug, Clone)]
pub struct Templates {
    kinds: HashMap<MailKind, KindTemplates>,
}

#[derive(Debug, Clone)]
struct KindTemplates {
    subject: Template,
    text: Template,
    html: Template,
}

/// A parsed template: literal text and variables, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    AppName,
    Link,
    ExpiresIn,
    Email,
    NewEmail,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        Some(match name {
            "app_name" => Var::AppName,
            "link" => Var::Link,
            "expires_in" => Var::ExpiresIn,
            "email" => Var::Email,
            "new_email" => Var::NewEmail,
            _ => return None,
        })
    }

    fn value<'a>(self, vars: &Vars<'a>) -> &'a str {
        match self {
            Var::AppName => vars.app_name,
            Var::Link => vars.link,
            Var::ExpiresIn => vars.expires_in,
            Var::Email => vars.email,
            Var::NewEmail => vars.new_email,
        }
    }
}

/// How a value is written into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Html,
    /// One line: CR and LF become spaces.
    Line,
}

impl Template {
    /// Parses `{{name}}` placeholders. The error is the reason only; the
    /// caller adds the file name.
    fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err("a \"{{\" is never closed by \"}}\"".to_owned());
            };
            let name = after[..close].trim();
            let var = Var::parse(name).ok_or_else(|| {
                format!(
                    "unknown variable {{{{{name}}}}} (known: {{{{app_name}}}}, {{{{link}}}}, {{{{expires_in}}}}, {{{{email}}}}, {{{{new_email}}}})"
                )
            })?;
            parts.push(Part::Var(var));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template(parts))
    }

    fn render(&self, vars: &Vars<'_>, escape: Escape) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(var) => {
                    let value = var.value(vars);
                    match escape {
                        Escape::None => out.push_str(value),
                        Escape::Html => push_html_escaped(&mut out, value),
                        Escape::Line => out.extend(value.chars().map(|c| match c {
                            '\r' | '\n' => ' ',
                            c => c,
                        })),
                    }
                }
            }
        }
        out
    }
}

/// Appends `value` escaped for HTML text and attribute values.
pub fn push_html_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The three parts of a file-name: which suffix replaces which part.
const PARTS: [&str; 3] = ["subject", "txt", "html"];

impl Templates {
    /// The built-in templates, with overrides from `dir` when it is not
    /// empty. Reads the directory once; called at start.
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let mut kinds = HashMap::new();
        for kind in MailKind::ALL {
            let (subject, text, html) = builtin(kind);
            let parse = |name: &str, source: &str| {
                Template::parse(source).map_err(|reason| TemplateError::File {
                    file: PathBuf::from(format!("(built-in) {}.{name}", kind.as_str())),
                    reason,
                })
            };
            kinds.insert(
                kind,
                KindTemplates {
                    subject: parse("subject", subject)?,
                    text: parse("txt", &text)?,
                    html: parse("html", &layout(&html))?,
                },
            );
        }
        let mut templates = Templates { kinds };
        if !dir.as_os_str().is_empty() {
            templates.apply_overrides(dir)?;
        }
        Ok(templates)
    }

    fn apply_overrides(&mut self, dir: &Path) -> Result<(), TemplateError> {
        let dir_error = |reason: String| TemplateError::Dir {
            dir: dir.to_owned(),
            reason,
        };
        let meta = std::fs::metadata(dir).map_err(|e| dir_error(e.to_string()))?;
        if !meta.is_dir() {
            return Err(dir_error("is not a directory".to_owned()));
        }
        // Files that look like templates but name no kind are probably typos
        // ("confirm-account.txt"); say so rather than silently ignore them.
        let entries = std::fs::read_dir(dir).map_err(|e| dir_error(e.to_string()))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Some((stem, ext)) = name.rsplit_once('.') else {
                continue;
            };
            if PARTS.contains(&ext) && MailKind::parse(stem).is_none() {
                tracing::warn!(
                    file = %entry.path().display(),
                    "email.templates_dir: this file names no mail kind and is ignored"
                );
            }
        }
        for kind in MailKind::ALL {
            for part in PARTS {
                let file = dir.join(format!("{}.{part}", kind.as_str()));
                let source = match std::fs::read_to_string(&file) {
                    Ok(source) => source,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(TemplateError::File {
                            file,
                            reason: e.to_string(),
                        })
                    }
                };
                let source = match part {
                    "subject" => source.lines().next().unwrap_or("").trim().to_owned(),
                    _ => source,
                };
                if part == "subject" && source.is_empty() {
                    return Err(TemplateError::File {
                        file,
                        reason: "the subject is empty".to_owned(),
                    });
                }
                let template = Template::parse(&source)
                    .map_err(|reason| TemplateError::File { file, reason })?;
                let Some(slot) = self.kinds.get_mut(&kind) else {
                    continue;
                };
                match part {
                    "subject" => slot.subject = template,
                    "txt" => slot.text = template,
                    _ => slot.html = template,
                }
            }
        }
        Ok(())
    }

    /// The message of `kind` with `vars` filled in.
    pub fn render(&self, kind: MailKind, vars: &Vars<'_>) -> Rendered {
        match self.kinds.get(&kind) {
            Some(t) => Rendered {
                subject: t.subject.render(vars, Escape::Line).trim().to_owned(),
                text: t.text.render(vars, Escape::None),
                html: t.html.render(vars, Escape::Html),
            },
            // `load` fills every kind; an empty message beats a panic.
            None => Rendered {
                subject: vars.app_name.to_owned(),
                text: String::new(),
                html: String::new(),
            },
        }
    }
}

/// A duration in words for `{{expires_in}}`: "24 hours", "2 days",
/// "30 minutes", "1 hour", "90 seconds".
pub fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (n, unit) = if secs >= 2 * 86_400 && secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs >= 3600 && secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else if secs >= 60 && secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    let mut out = format!("{n} {unit}");
    if n != 1 {
        out.push('s');
    }
    out
}

/// The built-in (subject, text, html body) of a kind. Text bodies keep
/// lines short, and the link alone on its line, so mail clients do not
/// break it.
fn builtin(kind: MailKind) -> (&'static str, String, String) {
    const IGNORE: &str = "If you did not ask for this, you can ignore this message.";
    match kind {
        MailKind::ConfirmAccount => (
            "Confirm your {{app_name}} account",
            format!(
                "Hello,\n\nplease confirm that {{{{email}}}} is your address for\n\
                 {{{{app_name}}}} by opening this link:\n\n{{{{link}}}}\n\n\
                 The link works once and expires in {{{{expires_in}}}}.\n{IGNORE}\n"
            ),
            format!(
                "<p>Hello,</p>\n<p>please confirm that {{{{email}}}} is your address for \
                 {{{{app_name}}}}.</p>\n{}\n<p>The link works once and expires in \
                 {{{{expires_in}}}}. {IGNORE}</p>\n",
                button("Confirm my address")
            ),
        ),
        MailKind::ResetPassword => (
            "Reset your {{app_name}} password",
            format!(
                "Hello,\n\nsomeone, hopefully you, asked to reset the password of the\n\
                 {{{{app_name}}}} account {{{{email}}}}. To choose a new password, open:\n\n\
                 {{{{link}}}}\n\nThe link works once and expires in {{{{expires_in}}}}.\n\
                 {IGNORE} Your password stays as it is.\n"
            ),
            format!(
                "<p>Hello,</p>\n<p>someone, hopefully you, asked to reset the password of the \
                 {{{{app_name}}}} account {{{{email}}}}.</p>\n{}\n<p>The link works once and \
                 expires in {{{{expires_in}}}}. {IGNORE} Your password stays as it is.</p>\n",
                button("Choose a new password")
            ),
        ),
        MailKind::ConfirmNewEmail => (
            "Confirm your new {{app_name}} address",
            format!(
                "Hello,\n\nto make {{{{new_email}}}} the address of your {{{{app_name}}}}\n\
                 account, open this link:\n\n{{{{link}}}}\n\n\
                 The link works once and expires in {{{{expires_in}}}}.\n\
                 {IGNORE} Nothing changes until the link is used.\n"
            ),
            format!(
                "<p>Hello,</p>\n<p>to make {{{{new_email}}}} the address of your \
                 {{{{app_name}}}} account, confirm it:</p>\n{}\n<p>The link works once and \
                 expires in {{{{expires_in}}}}. {IGNORE} Nothing changes until the link is \
                 used.</p>\n",
                button("Confirm my new address")
            ),
        ),
        MailKind::EmailChangeNotice => (
            "Your {{app_name}} address is being changed",
            "Hello,\n\nsomeone asked to change the address of your {{app_name}} account\n\
             from {{email}} to {{new_email}}. The change takes effect once the\n\
             new address is confirmed.\n\nIf this was not you, sign in and change your \
             password now.\n"
                .to_owned(),
            "<p>Hello,</p>\n<p>someone asked to change the address of your {{app_name}} \
             account from {{email}} to {{new_email}}. The change takes effect once the new \
             address is confirmed.</p>\n<p>If this was not you, sign in and change your \
             password now.</p>\n"
                .to_owned(),
        ),
        MailKind::PasswordChangedNotice => (
            "Your {{app_name}} password was changed",
            "Hello,\n\nthe password of your {{app_name}} account {{email}} was just\n\
             changed. If this was you, there is nothing to do.\n\nIf it was not, choose a \
             new password at once; this signs everyone else out:\n\n{{link}}\n\n\
             The link works once and expires in {{expires_in}}.\n"
                .to_owned(),
            format!(
                "<p>Hello,</p>\n<p>the password of your {{{{app_name}}}} account {{{{email}}}} \
                 was just changed. If this was you, there is nothing to do.</p>\n<p>If it was \
                 not, choose a new password at once; this signs everyone else out.</p>\n{}\n\
                 <p>The link works once and expires in {{{{expires_in}}}}.</p>\n",
                button("Choose a new password")
            ),
        ),
        MailKind::RegistrationAttempt => (
            "Sign-up attempt with your {{app_name}} address",
            "Hello,\n\nsomeone tried to create a {{app_name}} account with {{email}},\n\
             which already has one. If this was you, sign in with your password,\n\
             or use \"forgot password\" if you no longer know it.\n\n\
             If it was not you, you can ignore this message.\n"
                .to_owned(),
            "<p>Hello,</p>\n<p>someone tried to create a {{app_name}} account with \
             {{email}}, which already has one. If this was you, sign in with your password, \
             or use \u{201c}forgot password\u{201d} if you no longer know it.</p>\n<p>If it \
             was not you, you can ignore this message.</p>\n"
                .to_owned(),
        ),
    }
}

/// A link as a button, with the URL also written out for clients that
/// show no buttons.
fn button(label: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<p><a href=\"{{{{link}}}}\" style=\"display:inline-block;padding:10px 18px;\
         background:#1f6feb;color:#ffffff;text-decoration:none;border-radius:4px\">{label}</a></p>\n\
         <p style=\"font-size:13px;color:#555555;word-break:break-all;overflow-wrap:anywhere\">\
         Or copy this address into your browser:<br>\
         <a href=\"{{{{link}}}}\" style=\"word-break:break-all;overflow-wrap:anywhere\">{{{{link}}}}</a></p>"
    );
    out
}

/// The HTML document around a built-in body: no external assets, inline
/// styles only, so it renders the same offline and in every client.
///
/// The body sits in a one-cell table of at most 560 px (`max-width` alone
/// is ignored by some clients; a fixed table layout holds), and long words
/// — a link with its token is one — break instead of widening the column
/// (`word-break` for older engines, `overflow-wrap` for newer ones).
fn layout(body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{{{{app_name}}}}</title></head>\n\
         <body style=\"margin:0;padding:0\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"width:100%;max-width:560px;margin:0 auto;table-layout:fixed\"><tr>\
         <td style=\"font-family:sans-serif;font-size:15px;line-height:1.5;color:#222222;\
         padding:16px;word-break:break-word;overflow-wrap:anywhere\">\n{body}\
         <p style=\"font-size:12px;color:#777777\">{{{{app_name}}}}</p>\n</td></tr></table>\n\
         </body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>() -> Vars<'a> {
        Vars {
            app_name: "Acme",
            link: "https://auth.example.com/v1/auth/confirm-email?token=abc_DEF-123",
            expires_in: "24 hours",
            email: "ann@example.com",
            new_email: "new@example.com",
        }
    }

    #[test]
    fn every_builtin_kind_renders_its_link_and_names() {
        let t = Templates::load(Path::new("")).unwrap();
        for kind in MailKind::ALL {
            let r = t.render(kind, &vars());
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
        let r = t.render(MailKind::EmailChangeNotice, &vars());
        assert!(r.text.contains("new@example.com"));
        assert_eq!(
            t.render(MailKind::ResetPassword, &vars()).subject,
            "Reset your Acme password"
        );
    }

    /// Every built-in message, rendered with fixed values that need every
    /// kind of escaping, is pinned byte for byte (a SHA-256 per part): the
    /// built-ins moving from code to files changed no mail.
    #[test]
    fn builtin_renders_are_pinned() {
        const PINNED: [(&str, &str, &str, &str); 6] = [
            (
                "confirm_account",
                "dfb8cadd65018c42f6a40e5f2c422eb9db1daeb8abd241dcd00ce22bb44bac6f",
                "73ff05016b0091c603e75e1f756dc3c49f209b91ac9623b558867a2c82979251",
                "8160a855f7298e3b35816fa4256591b65eaa2213f191f6ad83bce287e9dec34a",
            ),
            (
                "reset_password",
                "72856a9ce92c96e1722f8b78b1750c3d59dd7521794045829ebe778abf41cb35",
                "1895b38d20ad43da51178f0d46b88fe84fa84aea8a0cb8245403d8adff9274d1",
                "4ad60c991fd115f72d7d86620b0281a2cfd04fcb87f858888da25d39b208f640",
            ),
            (
                "confirm_new_email",
                "5d1c290ae45f5c3fd555b5e0fed555c22f86251022c5de9e5ed4a7688e4b15a2",
                "5613fa2636c6e3304a9e2f303e8c8ae9cbf8a6f2c46a9301b8c543afa73f0ac4",
                "a17c75f20080df769eade8df0d1ffea388471c994b6678c50c94f500a894c3f6",
            ),
            (
                "email_change_notice",
                "d9ecca4e8e21d07a2e750b3d7afa99d34a01ecdc403d3d4f0c3c87d110d2e401",
                "6b95b3aa21ff8d5bb4953d911fcbc1ba8b5481479eda0150a88497174ae3c180",
                "0967b8cf9d6f62cf15c67df1bfb05a57db12cc15cf552528e0aa27423d8b925d",
            ),
            (
                "password_changed_notice",
                "2c079e17ca9e7aa5883c9ab7ec4acfcd3feadd91a78f547b4094814b8a18033e",
                "58a1cb7abcacc381bbea613524b44e23a7ec373277f04c6eb192b41e29c5448c",
                "0a9fdbb359a6203ba59329d625749650bc332b441c2958d3720ee726ad03df6b",
            ),
            (
                "registration_attempt",
                "806d0b20e5b95f59da4cc6815354fb0ece228369cf0d480ad21b4e7f6fc4d34b",
                "f147011338dabcf8f84c74f8a97a37f44a80d6fb920ae046819c6bd823785302",
                "9b2469dde6294ed8856df9905ed99da2138050056f342427e6e9921bd838b813",
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
        };
        let mut got = Vec::new();
        for kind in MailKind::ALL {
            let r = t.render(kind, &v);
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
        let r = t.render(MailKind::ConfirmAccount, &v);
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
        let subject = t.render(MailKind::ConfirmAccount, &v).subject;
        assert!(!subject.contains(['\r', '\n']), "{subject:?}");
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
            "unknown variable {{nope}} (known: {{app_name}}, {{link}}, {{expires_in}}, {{email}}, {{new_email}})"
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
        let r = t.render(MailKind::ResetPassword, &vars());
        assert_eq!(r.subject, "Acme: new password");
        assert_eq!(
            r.html,
            format!("<a href=\"{}\">ann@example.com</a>", vars().link)
        );
        // Untouched: the built-in text, and other kinds.
        assert!(r.text.contains("choose a new password"));
        let other = t.render(MailKind::ConfirmAccount, &vars());
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
}
