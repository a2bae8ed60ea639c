//! Templates: the subject, plain-text and HTML body of each [`MailKind`],
//! in each language toktok speaks ([`Locale`]).
//!
//! Every kind has a built-in template per language: the files in
//! `src/mail/templates/builtin/<lang>/` (`en`, `fr`, `de`, `es`), compiled
//! in. Whole files per language rather than a Fluent message per sentence:
//! a translator sees the whole mail and may order it as the language
//! wants, and the files are in exactly the format an operator overrides.
//! An operator can replace any part of any kind with a file in
//! `email.templates_dir`, named after [`MailKind::as_str`] — the same names
//! and format as the built-ins, so copying one is the way to start:
//!
//! | file                | replaces                                         |
//! |---------------------|--------------------------------------------------|
//! | `<kind>.subject`    | the subject (first line only; surrounding space trimmed) |
//! | `<kind>.txt`        | the plain-text body                              |
//! | `<kind>.html`       | the HTML body                                    |
//!
//! with `<kind>` one of `confirm_account`, `reset_password`,
//! `confirm_new_email`, `email_change_notice`, `password_changed_notice`,
//! `registration_attempt`, `email_code`, `passkey_added_notice`,
//! `totp_disabled_notice`, `factors_reset_notice`. A file at the top of
//! the directory replaces that part in every language (how overrides
//! worked before there were languages); one in a language folder
//! (`fr/reset_password.txt`) replaces it in that language only, and wins
//! over the top-level one. Files are read once, at start; a missing
//! directory, an unreadable file, an unclosed `{{` or an unknown variable
//! stops the start with a message naming the file, so a typo is found by
//! the operator and not by a user waiting for a mail.
//!
//! Variables, written `{{name}}` (spaces inside the braces allowed):
//!
//! | variable         | value                                                  |
//! |------------------|--------------------------------------------------------|
//! | `{{app_name}}`   | `email.app_name`                                       |
//! | `{{link}}`       | the link to follow (`{public_url}/v1/auth/…?token=…`); in the password-changed notice, a reset link; empty in the other notices |
//! | `{{expires_in}}` | the link's lifetime in words of the mail's language, e.g. `24 hours`, `24 heures` (`email.link_ttl`; `mail-duration-*` in the catalogues) |
//! | `{{email}}`      | the recipient's address                                |
//! | `{{new_email}}`  | the new address of an email change; empty otherwise    |
//! | `{{code}}`       | the sign-in code of `email_code`; empty otherwise      |
//!
//! In HTML bodies every value is HTML-escaped; subjects and plain text take
//! values as they are (a subject is one line: line breaks in a value become
//! spaces). The template language has nothing else — no conditionals, no
//! loops, no includes — so a template can neither fail at send time nor
//! reach anything but these five values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::MailKind;
use crate::i18n::{Catalogues, Locale};

/// The values a template may use. Borrowed: rendering copies only into the
/// output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vars<'a> {
    pub app_name: &'a str,
    pub link: &'a str,
    pub expires_in: &'a str,
    pub email: &'a str,
    pub new_email: &'a str,
    /// The sign-in code of an email-code mail; empty otherwise.
    pub code: &'a str,
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

/// The templates of every kind in every language, parsed and checked.
/// Cheap to share.
#[derive(Debug, Clone)]
pub struct Templates {
    kinds: HashMap<(Locale, MailKind), KindTemplates>,
}

#[derive(Debug, Clone)]
struct KindTemplates {
    subject: Template,
    text: Template,
    html: Template,
}

/// A parsed template: literal text and variables, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template(Vec<Part>);

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
    Code,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        Some(match name {
            "app_name" => Var::AppName,
            "link" => Var::Link,
            "expires_in" => Var::ExpiresIn,
            "email" => Var::Email,
            "new_email" => Var::NewEmail,
            "code" => Var::Code,
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
            Var::Code => vars.code,
        }
    }
}

/// How a value is written into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
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
                    "unknown variable {{{{{name}}}}} (known: {{{{app_name}}}}, {{{{link}}}}, {{{{expires_in}}}}, {{{{email}}}}, {{{{new_email}}}}, {{{{code}}}})"
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

    pub(crate) fn render(&self, vars: &Vars<'_>, escape: Escape) -> String {
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

/// A template file's text as a template: a subject is its first line,
/// surrounding space trimmed, and must not be empty; a body is the whole
/// file. Built-ins and overrides both come through here.
pub(crate) fn template_of(part: &str, source: &str) -> Result<Template, String> {
    let source = match part {
        "subject" => source.lines().next().unwrap_or("").trim(),
        _ => source,
    };
    if part == "subject" && source.is_empty() {
        return Err("the subject is empty".to_owned());
    }
    // A mail header is one line: a bare CR (which `lines` keeps) or any
    // other control character would break it or hide in it (found by the
    // `mail_template` fuzz target).
    if part == "subject" && source.chars().any(char::is_control) {
        return Err("the subject line has a control character".to_owned());
    }
    Template::parse(source)
}

impl Templates {
    /// The built-in templates, with overrides from `dir` when it is not
    /// empty. Reads the directory once; called at start.
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let mut kinds = HashMap::new();
        for locale in Locale::ALL {
            for kind in MailKind::ALL {
                let [subject, text, html] = builtin(locale, kind);
                let parse = |part: &str, source: &str| {
                    template_of(part, source).map_err(|reason| TemplateError::File {
                        file: PathBuf::from(format!(
                            "(built-in) {locale}/{}.{part}",
                            kind.as_str()
                        )),
                        reason,
                    })
                };
                kinds.insert(
                    (locale, kind),
                    KindTemplates {
                        subject: parse("subject", subject)?,
                        text: parse("txt", text)?,
                        html: parse("html", html)?,
                    },
                );
            }
        }
        let mut templates = Templates { kinds };
        if !dir.as_os_str().is_empty() {
            templates.apply_overrides(dir)?;
        }
        Ok(templates)
    }

    /// The top-level files for every language, then each language's
    /// folder for its own.
    fn apply_overrides(&mut self, dir: &Path) -> Result<(), TemplateError> {
        let dir_error = |reason: String| TemplateError::Dir {
            dir: dir.to_owned(),
            reason,
        };
        let meta = std::fs::metadata(dir).map_err(|e| dir_error(e.to_string()))?;
        if !meta.is_dir() {
            return Err(dir_error("is not a directory".to_owned()));
        }
        warn_strays(dir).map_err(|e| dir_error(e.to_string()))?;
        self.apply_folder(dir, &Locale::ALL)?;
        for locale in Locale::ALL {
            let folder = dir.join(locale.as_str());
            if folder.is_dir() {
                warn_strays(&folder).map_err(|e| TemplateError::Dir {
                    dir: folder.clone(),
                    reason: e.to_string(),
                })?;
                self.apply_folder(&folder, &[locale])?;
            }
        }
        Ok(())
    }

    /// Applies the template files found in `folder` to `locales`.
    fn apply_folder(&mut self, folder: &Path, locales: &[Locale]) -> Result<(), TemplateError> {
        for kind in MailKind::ALL {
            for part in PARTS {
                let file = folder.join(format!("{}.{part}", kind.as_str()));
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
                let template = template_of(part, &source)
                    .map_err(|reason| TemplateError::File { file, reason })?;
                for locale in locales {
                    let Some(slot) = self.kinds.get_mut(&(*locale, kind)) else {
                        continue;
                    };
                    let target = match part {
                        "subject" => &mut slot.subject,
                        "txt" => &mut slot.text,
                        _ => &mut slot.html,
                    };
                    *target = template.clone();
                }
            }
        }
        Ok(())
    }

    /// The message of `kind` in `locale` with `vars` filled in.
    pub fn render(&self, kind: MailKind, locale: Locale, vars: &Vars<'_>) -> Rendered {
        match self.kinds.get(&(locale, kind)) {
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

/// Logs the entries of an overrides folder that look like templates or
/// language folders but name no mail kind or language toktok has
/// ("confirm-account.txt", "it/"): probably typos, said rather than
/// silently ignored.
fn warn_strays(folder: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if path.is_dir() {
            let is_language = Locale::ALL.iter().any(|l| l.as_str() == name);
            if !is_language && name.len() <= 3 && name.chars().all(|c| c.is_ascii_alphabetic()) {
                tracing::warn!(
                    folder = %path.display(),
                    "email.templates_dir: this folder names no language toktok speaks (en, fr, de, es) and is ignored"
                );
            }
            continue;
        }
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if PARTS.contains(&ext) && MailKind::parse(stem).is_none() {
            tracing::warn!(
                file = %path.display(),
                "email.templates_dir: this file names no mail kind and is ignored"
            );
        }
    }
    Ok(())
}

/// A duration as a count of its largest whole unit: `24h` is 24 hours,
/// `2d` two days (one day stays 24 hours), `90s` 90 seconds.
fn whole_unit(duration: Duration) -> (u64, Unit) {
    let secs = duration.as_secs();
    if secs >= 2 * 86_400 && secs % 86_400 == 0 {
        (secs / 86_400, Unit::Day)
    } else if secs >= 3600 && secs % 3600 == 0 {
        (secs / 3600, Unit::Hour)
    } else if secs >= 60 && secs % 60 == 0 {
        (secs / 60, Unit::Minute)
    } else {
        (secs, Unit::Second)
    }
}

#[derive(Debug, Clone, Copy)]
enum Unit {
    Day,
    Hour,
    Minute,
    Second,
}

/// A duration in English words, for logs and audit details: "24 hours",
/// "2 days", "30 minutes", "1 hour", "90 seconds".
pub fn human_duration(duration: Duration) -> String {
    let (n, unit) = whole_unit(duration);
    let unit = match unit {
        Unit::Day => "day",
        Unit::Hour => "hour",
        Unit::Minute => "minute",
        Unit::Second => "second",
    };
    let mut out = format!("{n} {unit}");
    if n != 1 {
        out.push('s');
    }
    out
}

/// A duration in words of `locale`, for `{{expires_in}}`: the catalogues'
/// `mail-duration-*` message of its largest whole unit ("24 heures",
/// "2 Tage").
pub fn duration_in(catalogues: &Catalogues, locale: Locale, duration: Duration) -> String {
    let (n, unit) = whole_unit(duration);
    let key = match unit {
        Unit::Day => "mail-duration-days",
        Unit::Hour => "mail-duration-hours",
        Unit::Minute => "mail-duration-minutes",
        Unit::Second => "mail-duration-seconds",
    };
    catalogues.text(locale, key, &[("n", n.into())])
}

/// The three built-in files of `$kind` in the folder `$lang`.
macro_rules! files {
    ($lang:literal, $kind:literal) => {
        [
            include_str!(concat!("builtin/", $lang, "/", $kind, ".subject")),
            include_str!(concat!("builtin/", $lang, "/", $kind, ".txt")),
            include_str!(concat!("builtin/", $lang, "/", $kind, ".html")),
        ]
    };
}

/// Every kind's built-in files in the folder `$lang`: a file missing in
/// any language does not compile.
macro_rules! in_language {
    ($lang:literal, $kind:expr) => {
        match $kind {
            MailKind::ConfirmAccount => files!($lang, "confirm_account"),
            MailKind::ResetPassword => files!($lang, "reset_password"),
            MailKind::ConfirmNewEmail => files!($lang, "confirm_new_email"),
            MailKind::EmailChangeNotice => files!($lang, "email_change_notice"),
            MailKind::PasswordChangedNotice => files!($lang, "password_changed_notice"),
            MailKind::RegistrationAttempt => files!($lang, "registration_attempt"),
            MailKind::PasskeyAddedNotice => files!($lang, "passkey_added_notice"),
            MailKind::EmailCode => files!($lang, "email_code"),
            MailKind::TotpDisabledNotice => files!($lang, "totp_disabled_notice"),
            MailKind::FactorsResetNotice => files!($lang, "factors_reset_notice"),
        }
    };
}

/// The built-in (subject, text, html) sources of a kind in a language:
/// the files in `builtin/<lang>/`, in the format of an override. Text
/// bodies keep lines short, and the link alone on its line, so mail
/// clients do not break it. HTML bodies are whole documents (with their
/// `lang`): no external assets, inline styles only, so they render the
/// same offline and in every client; the body sits in a
/// one-cell table of at most 560 px (`max-width` alone is ignored by some
/// clients; a fixed table layout holds), and long words — a link with its
/// token is one — break instead of widening the column (`word-break` for
/// older engines, `overflow-wrap` for newer ones).
fn builtin(locale: Locale, kind: MailKind) -> [&'static str; 3] {
    match locale {
        Locale::En => in_language!("en", kind),
        Locale::Fr => in_language!("fr", kind),
        Locale::De => in_language!("de", kind),
        Locale::Es => in_language!("es", kind),
    }
}

#[cfg(test)]
mod tests;
