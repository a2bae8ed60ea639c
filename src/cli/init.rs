//! `toktok init`: a commented toktok.toml and a private data directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::{restrict, CONFIG_TEMPLATE};

pub(super) fn random_secret() -> anyhow::Result<String> {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 48];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the OS random number generator failed"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The configuration `toktok init` writes: the shipped template with the
/// database and dev-mail paths under `data_dir` and, for HS256, `secret`.
/// Public so a test can hold the Debian package's config to it.
pub fn render_config(data_dir: &Path, hs256_secret: Option<&str>) -> anyhow::Result<String> {
    let quoted = |path: PathBuf| -> anyhow::Result<String> {
        let text = path
            .to_str()
            .with_context(|| format!("--data-dir: {} is not valid UTF-8", path.display()))?;
        Ok(toml::Value::String(text.to_owned()).to_string())
    };
    let mut text = CONFIG_TEMPLATE
        .replacen(
            "path = \"toktok.db\"",
            &format!("path = {}", quoted(data_dir.join("toktok.db"))?),
            1,
        )
        .replacen(
            "outbox_dir = \"outbox\"",
            &format!("outbox_dir = {}", quoted(data_dir.join("outbox"))?),
            1,
        );
    if let Some(secret) = hs256_secret {
        text = text
            .replace("algorithm = \"EdDSA\"", "algorithm = \"HS256\"")
            // The first: [jwt]'s (later ones, e.g. [hooks.access_token]'s,
            // stay empty).
            .replacen("secret = \"\"", &format!("secret = \"{secret}\""), 1);
    }
    Ok(text)
}

pub(super) fn init(dir: &Path, data_dir: Option<&Path>, hs256: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    let dir = std::path::absolute(dir)
        .with_context(|| format!("cannot make {} absolute", dir.display()))?;
    let path = dir.join("toktok.toml");
    if path.exists() {
        bail!("will not overwrite {}", path.display());
    }
    // Absolute, so the server finds its data whatever its working directory.
    let data_dir = match data_dir {
        Some(d) => std::path::absolute(d)
            .with_context(|| format!("cannot make {} absolute", d.display()))?,
        None => dir.join("data"),
    };
    let secret = if hs256 { Some(random_secret()?) } else { None };
    let text = render_config(&data_dir, secret.as_deref())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| {
            format!(
                "will not overwrite {} (or cannot create it)",
                path.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("while writing {}", path.display()))?;
    restrict(&path);
    create_private_dir(&data_dir)?;
    println!("wrote {}", path.display());
    println!("data directory: {}", data_dir.display());
    println!(
        "start the server with: toktok --config {} serve",
        path.display()
    );
    Ok(())
}

/// Creates `dir` (mode 0700) unless it exists; an existing one is left as is.
pub(super) fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("while creating the data directory {}", dir.display()))
}
