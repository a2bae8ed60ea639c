//! `[branding] messages_dir`: the operator's message files, read and
//! checked once at start so a typo stops the server with the file and line
//! instead of showing a user a raw key.
//!
//! The directory holds one folder per language (`en`, `fr`, `de`, `es`),
//! each with any number of `.ftl` files. A message there replaces the
//! built-in message of the same key in that language; keys it does not
//! name keep their built-in text. A message must be one English has, and
//! may only use the arguments English's uses (toktok passes no others).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fluent_bundle::FluentResource;
use fluent_syntax::ast;

use super::Locale;

/// Why the catalogues could not be built: one line naming the file (and
/// line) to fix.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("branding.messages_dir {}: {reason}", dir.display())]
    Dir { dir: PathBuf, reason: String },
    #[error("{}:{line}: {reason}", file.display())]
    File {
        file: PathBuf,
        line: usize,
        reason: String,
    },
    /// A built-in catalogue that does not load: a bug the tests catch.
    #[error("built-in catalogue {0}")]
    Builtin(String),
}

/// Parses one Fluent file; the first syntax error is the error.
pub(crate) fn parse(file: &Path, source: String) -> Result<FluentResource, CatalogueError> {
    // fluent-syntax 0.12 panics on a `\u` escape whose digits run into a
    // multi-byte character (it slices inside the character; found by the
    // `catalogue` fuzz target). Such a file is refused like any other that
    // does not parse, at the line of that escape; a panic of the parser
    // from anything else is refused too (at line 1), never a crash.
    let refuse = |line: usize| CatalogueError::File {
        file: file.to_owned(),
        line,
        reason: "a \\u or \\U escape the Fluent parser cannot read (it takes 4 or 6 hex digits)"
            .to_owned(),
    };
    if let Some(at) = unreadable_escape(&source) {
        return Err(refuse(line_of(&source, at)));
    }
    let parsed = std::panic::catch_unwind(move || FluentResource::try_new(source));
    let Ok(parsed) = parsed else {
        return Err(refuse(1));
    };
    match parsed {
        Ok(resource) => Ok(resource),
        Err((resource, errors)) => {
            let first = errors.first();
            let at = first.map_or(0, |e| e.pos.start);
            Err(CatalogueError::File {
                file: file.to_owned(),
                line: line_of(resource.source(), at),
                reason: first.map_or_else(|| "does not parse".to_owned(), |e| e.to_string()),
            })
        }
    }
}

/// The byte offset of the first `\u` (`\U`) whose 4 (6) hex digits stop
/// at a multi-byte character: where fluent-syntax 0.12 would slice inside
/// it. Looked for anywhere, string literal or not, so a text `\u` followed
/// by such a character is refused too (the refusal says why).
fn unreadable_escape(source: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(found) = source.get(from..).and_then(|rest| rest.find('\\')) {
        let at = from + found;
        let length = match bytes.get(at + 1) {
            Some(b'u') => 4,
            Some(b'U') => 6,
            _ => {
                from = at + 1;
                continue;
            }
        };
        let rest = bytes.get(at + 2..).unwrap_or_default();
        let digits = rest
            .iter()
            .take(length)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if digits < length && rest.get(digits).is_some_and(|b| !b.is_ascii()) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// The messages of a parsed file with the arguments (`$name`) each uses,
/// in its value, its variants and its attributes.
pub(crate) fn messages(resource: &FluentResource) -> BTreeMap<String, BTreeSet<String>> {
    resource
        .entries()
        .filter_map(|entry| match entry {
            ast::Entry::Message(message) => {
                let mut vars = BTreeSet::new();
                if let Some(value) = &message.value {
                    pattern_vars(value, &mut vars);
                }
                for attribute in &message.attributes {
                    pattern_vars(&attribute.value, &mut vars);
                }
                Some((message.id.name.to_owned(), vars))
            }
            _ => None,
        })
        .collect()
}

fn pattern_vars(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_vars(expression, out);
        }
    }
}

fn expression_vars(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, out);
            for variant in variants {
                pattern_vars(&variant.value, out);
            }
        }
        ast::Expression::Inline(inline) => inline_vars(inline, out),
    }
}

fn inline_vars(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for positional in &arguments.positional {
                inline_vars(positional, out);
            }
            for named in &arguments.named {
                inline_vars(&named.value, out);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, out),
        // A term's arguments are its own, not the caller's.
        ast::InlineExpression::StringLiteral { .. }
        | ast::InlineExpression::NumberLiteral { .. }
        | ast::InlineExpression::MessageReference { .. }
        | ast::InlineExpression::TermReference { .. } => {}
    }
}

/// Reads and checks every override file under `dir`, against English's
/// messages and arguments (`known`).
pub(super) fn read(
    dir: &Path,
    known: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<(Locale, FluentResource)>, CatalogueError> {
    let dir_error = |reason: String| CatalogueError::Dir {
        dir: dir.to_owned(),
        reason,
    };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| dir_error(format!("cannot be read: {e}")))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| dir_error(format!("cannot be read: {e}")))?;
    folders.sort();
    let mut out = Vec::new();
    for folder in folders {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let locale = Locale::ALL
            .into_iter()
            .find(|l| l.as_str() == name)
            .filter(|_| folder.is_dir())
            .ok_or_else(|| {
                dir_error(format!(
                    "{name} is not a language folder (expected en, fr, de or es)"
                ))
            })?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|e| dir_error(format!("{name} cannot be read: {e}")))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        for file in files {
            if file.extension().is_none_or(|e| e != "ftl") || !file.is_file() {
                return Err(CatalogueError::File {
                    file,
                    line: 1,
                    reason: "not a .ftl file (only <lang>/*.ftl files belong here)".to_owned(),
                });
            }
            let source = std::fs::read_to_string(&file).map_err(|e| CatalogueError::File {
                file: file.clone(),
                line: 1,
                reason: format!("cannot be read: {e}"),
            })?;
            let resource = parse(&file, source)?;
            check(&file, &resource, known)?;
            out.push((locale, resource));
        }
    }
    Ok(out)
}

/// Every message of an override is one English has, with no argument
/// English does not use.
pub(crate) fn check(
    file: &Path,
    resource: &FluentResource,
    known: &BTreeMap<String, BTreeSet<String>>,
) -> Result<(), CatalogueError> {
    for (key, vars) in messages(resource) {
        let fail = |reason: String| CatalogueError::File {
            file: file.to_owned(),
            line: line_of_key(resource.source(), &key),
            reason,
        };
        let Some(allowed) = known.get(&key) else {
            return Err(fail(format!(
                "{key} is not a message toktok has (see src/i18n/locales/en/ for the keys)"
            )));
        };
        if let Some(extra) = vars.difference(allowed).next() {
            let passed: Vec<String> = allowed.iter().map(|v| format!("${v}")).collect();
            let passed = if passed.is_empty() {
                "none".to_owned()
            } else {
                passed.join(", ")
            };
            return Err(fail(format!(
                "{key} uses ${extra}, which toktok does not pass to it (it passes: {passed})"
            )));
        }
    }
    Ok(())
}

/// The 1-based line of byte offset `at`.
fn line_of(source: &str, at: usize) -> usize {
    let at = at.min(source.len());
    source.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line a message `key = …` starts on (1 when not found).
fn line_of_key(source: &str, key: &str) -> usize {
    source
        .lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}
