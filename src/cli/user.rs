//! `toktok user create`.

use std::io::Read as _;

use anyhow::{bail, Context as _};

use super::print_line;
use crate::config::Config;
use crate::App;

pub(super) async fn user_create(
    config: Config,
    email: &str,
    role: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = if password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("while reading the password from standard input")?;
        let line = text.lines().next().unwrap_or("").to_owned();
        if line.is_empty() {
            bail!("--password-stdin: standard input held no password");
        }
        Some(line)
    } else {
        None
    };
    let app = App::build(config).await?;
    let user = crate::accounts::create_user(app.state(), email, role, password)
        .await
        .map_err(cli_error)?;
    print_line(&serde_json::to_string(&user)?)?;
    Ok(())
}

/// An API error as one line for the command line: a validation error names
/// each bad field as its flag (`--email: …`) with the reason.
pub(super) fn cli_error(error: crate::error::ApiError) -> anyhow::Error {
    match error {
        crate::error::ApiError::Validation(errors) if !errors.is_empty() => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message))
                .collect();
            anyhow::anyhow!("{}", fields.join("; "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}
