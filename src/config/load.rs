//! Loading (steps 1 and 2): TOML text and `TOKTOK_*` variables layered into
//! one table whose every section, key and kind of value `KEYS` knows; then
//! the checker (step 3) turns it into a [`Config`].

use std::collections::HashMap;
use std::path::Path;

use toml::{Table, Value};

use super::check::Checker;
use super::keys::{key_kind, known_keys, known_sections, section_keys, Kind};
use super::values::parse_duration;
use super::{Config, ConfigError};

impl Config {
    /// Reads the file at `path` (an error if given but missing or
    /// unreadable; no file means built-in defaults), then applies `TOKTOK_*`
    /// variables from the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!("cannot read config file {}: {e}", path.display()))
            })?),
            None => None,
        };
        let file = path.map_or_else(|| "toktok.toml".to_string(), |p| p.display().to_string());
        build(&file, text.as_deref(), process_env()?)
    }

    /// The pure core of [`Config::load`]: optional TOML text, then
    /// environment pairs. Only names starting with `TOKTOK_` and containing
    /// `__` are considered (so `TOKTOK_CONFIG` is ignored). Errors about the
    /// text call it `toktok.toml`.
    pub fn from_sources(
        toml_text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        build("toktok.toml", toml_text, env)
    }
}

/// Whether an environment variable name is one of ours to interpret.
pub(super) fn is_config_var(name: &str) -> bool {
    name.starts_with("TOKTOK_") && name.contains("__")
}

/// The process environment's config variables. Other variables are not
/// even decoded, so a non-UTF-8 `PATH` cannot stop the server.
pub(super) fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if !is_config_var(name) {
            continue;
        }
        let Some(value) = value.to_str() else {
            return Err(ConfigError(format!("{name}: the value is not valid UTF-8")));
        };
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

pub(super) fn build(
    file: &str,
    toml_text: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table = match toml_text {
        Some(text) => parse_toml(file, text)?,
        None => Table::new(),
    };
    // `[[providers]]` is the one array of tables: read on its own.
    let providers = table.remove("providers");
    let (provider_env, env): (Vec<_>, Vec<_>) = env
        .into_iter()
        .partition(|(name, _)| name.starts_with(super::providers::ENV_PREFIX));
    lift_subsections(&mut table);
    check_file_keys(file, &table)?;
    let origins = apply_env(&mut table, env)?;
    let checker = Checker { origins: &origins };
    let mut config = checker.config(&table)?;
    config.providers = super::providers::parse(file, providers, provider_env)?;
    checker.cross_check(&config)?;
    // An OpenID provider's tokens name it by its URL (OIDC Core §2): with
    // OIDC on, the default issuer becomes `server.public_url`, and any
    // other configured issuer was refused by `cross_check`.
    if config.oidc.enabled {
        config.jwt.issuer = config.server.public_url.clone();
    }
    Ok(config)
}

/// `[hooks.access_token]` is a table inside `[hooks]`; KEYS knows it as
/// the section `hooks.access_token`, so it is lifted to the top.
pub(super) fn lift_subsections(table: &mut Table) {
    for (name, _) in super::keys::KEYS {
        let Some((parent, child)) = name.split_once('.') else {
            continue;
        };
        let lifted = table
            .get_mut(parent)
            .and_then(Value::as_table_mut)
            .and_then(|t| match t.get(child) {
                Some(Value::Table(_)) => t.remove(child),
                _ => None,
            });
        if let Some(sub) = lifted {
            table.insert((*name).to_owned(), sub);
        }
    }
}

pub(super) fn parse_toml(file: &str, text: &str) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| {
        let message = one_line(e.message());
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                ConfigError(format!(
                    "{file}: invalid TOML at line {line}, column {column}: {message}"
                ))
            }
            None => ConfigError(format!("{file}: invalid TOML: {message}")),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    // Count characters, not bytes: skip UTF-8 continuation bytes.
    let column = before[line_start..]
        .iter()
        .filter(|b| (**b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, column)
}

pub(super) fn one_line(message: &str) -> String {
    message
        .trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Step 1: every section and key of the file is known and of the right kind.
pub(super) fn check_file_keys(file: &str, table: &Table) -> Result<(), ConfigError> {
    for (section, value) in table {
        let Some(keys) = section_keys(section) else {
            return Err(ConfigError(if value.is_table() {
                format!(
                    "unknown section `[{section}]` in {file} (known sections: {})",
                    known_sections()
                )
            } else {
                format!(
                    "unknown key `{section}` at the top of {file}; keys belong in a section (known sections: {})",
                    known_sections()
                )
            }));
        };
        let Some(entries) = value.as_table() else {
            return Err(ConfigError(format!(
                "{section}: expected a [{section}] section in {file}, got {}",
                describe(value)
            )));
        };
        for (key, value) in entries {
            let Some(kind) = key_kind(keys, key) else {
                return Err(ConfigError(format!(
                    "unknown key `{section}.{key}` in {file} (known keys in [{section}]: {})",
                    known_keys(keys)
                )));
            };
            if let Some(problem) = kind_mismatch(kind, value) {
                return Err(ConfigError(format!("{section}.{key}: {problem}")));
            }
        }
    }
    Ok(())
}

/// Why `value` does not fit `kind`, if it doesn't. Never quotes the value:
/// it may be a secret written without quotes.
pub(super) fn kind_mismatch(kind: Kind, value: &Value) -> Option<String> {
    let fits = match kind {
        Kind::Str => value.is_str(),
        Kind::Int => value.is_integer(),
        Kind::Bool => value.is_bool(),
        Kind::Duration => value.is_str() || value.is_integer(),
        Kind::List => match value.as_array() {
            Some(items) => {
                if let Some(item) = items.iter().find(|item| !item.is_str()) {
                    return Some(format!(
                        "expected a list of strings, got a list containing {}",
                        describe(item)
                    ));
                }
                true
            }
            None => false,
        },
    };
    if fits {
        return None;
    }
    let expected = match kind {
        Kind::Str => "a string (in quotes)",
        Kind::Int => "a whole number",
        Kind::Bool => "true or false",
        Kind::Duration => "a duration like \"90s\", \"15m\", \"30d\" or a number of seconds",
        Kind::List => "a list of strings like [\"a\", \"b\"]",
    };
    Some(format!("expected {expected}, got {}", describe(value)))
}

pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// Step 2: `TOKTOK_<SECTION>__<KEY>` variables, converted by the key's kind,
/// written over the file's table. Returns which keys came from which
/// variable, so later errors can name the variable.
pub(super) fn apply_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, ConfigError> {
    let mut origins: HashMap<String, String> = HashMap::new();
    for (name, text) in env {
        if !is_config_var(&name) {
            continue;
        }
        let Some((section, key)) = name["TOKTOK_".len()..].split_once("__") else {
            continue;
        };
        let mut section = section.to_ascii_lowercase();
        let mut key = key.to_ascii_lowercase();
        // TOKTOK_HOOKS__ACCESS_TOKEN__URL: the subsection hooks.access_token.
        if let Some((sub, rest)) = key.clone().split_once("__") {
            section = format!("{section}.{sub}");
            key = rest.to_owned();
        }
        let Some(keys) = section_keys(&section) else {
            return Err(ConfigError(format!(
                "{name}: unknown section `{section}` (known sections: {})",
                known_sections()
            )));
        };
        let Some(kind) = key_kind(keys, &key) else {
            return Err(ConfigError(format!(
                "{name}: unknown key `{section}.{key}` (known keys in [{section}]: {})",
                known_keys(keys)
            )));
        };
        let value = env_value(&name, kind, &text)?;
        let full_key = format!("{section}.{key}");
        if let Some(other) = origins.get(&full_key) {
            return Err(ConfigError(format!(
                "{name}: {other} already sets {full_key}; set it once"
            )));
        }
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        let Some(section_table) = entry.as_table_mut() else {
            // check_file_keys has already rejected a non-table section.
            return Err(ConfigError(format!(
                "{section}: expected a [{section}] section"
            )));
        };
        section_table.insert(key, value);
        origins.insert(full_key, name);
    }
    Ok(origins)
}

/// Converts an environment variable's text to the TOML value its key takes.
/// A string key takes the text as is, so `TOKTOK_SMTP__PASSWORD=12345` is the
/// string "12345".
pub(super) fn env_value(name: &str, kind: Kind, text: &str) -> Result<Value, ConfigError> {
    match kind {
        Kind::Str => Ok(Value::String(text.to_string())),
        Kind::Int => {
            text.trim().parse::<i64>().map(Value::Integer).map_err(|_| {
                ConfigError(format!("{name}: expected a whole number, got \"{text}\""))
            })
        }
        Kind::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Value::Boolean(true)),
            "false" | "0" => Ok(Value::Boolean(false)),
            _ => Err(ConfigError(format!(
                "{name}: expected true, false, 1 or 0, got \"{text}\""
            ))),
        },
        Kind::Duration => match parse_duration(text) {
            Ok(_) => Ok(Value::String(text.trim().to_string())),
            Err(problem) => Err(ConfigError(format!(
                "{name}: {}",
                problem.explain(&format!("\"{text}\""))
            ))),
        },
        Kind::List => Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_string()))
                .collect(),
        )),
    }
}
