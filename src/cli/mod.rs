//! The command line (docs/API.md "Command line"): parsing with clap, and one
//! function per command. `main.rs` only calls [`run`].
//!
//! One file per command group: `serve.rs`, `init.rs`, `check.rs`, `user.rs`,
//! `keys.rs`, `api_key.rs`, `client.rs`, `import.rs` (users import, export) and `data.rs` (backup, migrate-to); this file
//! holds the clap types, the configuration lookup and [`run`].

mod api_key;
mod check;
mod client;
mod data;
mod import;
mod init;
mod keys;
mod serve;
#[cfg(test)]
mod tests;
mod user;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Parser, Subcommand};

use crate::auth::api_keys::Scope;
use crate::config::{Config, LogFormat};
use crate::store::Store;

pub use init::render_config;

/// The shipped, commented configuration: what `toktok init` writes.
pub const CONFIG_TEMPLATE: &str = include_str!("../../toktok.toml");

#[derive(Debug, Parser)]
#[command(
    name = "toktok",
    version,
    about = "A self-hosted authentication server"
)]
pub struct Cli {
    /// Configuration file (TOML). Without one, ./toktok.toml is read when
    /// it exists, else the built-in defaults apply.
    #[arg(long, global = true, env = "TOKTOK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default). SIGTERM/SIGINT drain in-flight requests;
    /// SIGHUP rereads the keys at once (they are reread every
    /// `jwt.key_reload` anyway).
    Serve,
    /// Write a commented toktok.toml (with a fresh random secret under
    /// --hs256; other keys are generated into the database at first start),
    /// and its data directory.
    Init {
        /// Directory to write toktok.toml into.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Directory for the database and dev-mode mail, written into the
        /// config as an absolute path and created (owner-only) if missing.
        /// Default: DIR/data. Under systemd: /var/lib/toktok.
        #[arg(long, value_name = "PATH")]
        data_dir: Option<PathBuf>,
        /// Configure HS256 with a freshly generated shared secret instead of
        /// the default EdDSA key pair.
        #[arg(long)]
        hs256: bool,
    },
    /// Validate the configuration and the database, and reach the SMTP relay
    /// when email.mode = "smtp"; exit non-zero with reasons.
    Check,
    /// Manage users: create one, import many, export them all.
    #[command(visible_alias = "users")]
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage signing keys and the RSA key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage service API keys (for the challenge and admin endpoints).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Manage the OAuth clients of toktok as an OpenID Connect provider
    /// (works with `[oidc]` off too: registering clients is set-up).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Write a consistent copy of the live database to PATH.
    Backup {
        /// The new file (it must not exist; its directory must), e.g.
        /// /var/backups/toktok-2026-12-04.db.
        path: PathBuf,
    },
    /// Copy the SQLite database (database.path) into an empty PostgreSQL
    /// database, all tables in one transaction, then compare row counts.
    /// Stop toktok first; afterwards set database.url and remove the path.
    MigrateTo {
        /// The PostgreSQL database, e.g. postgres://toktok:PASSWORD@db/toktok
        url: String,
    },
    /// Print the OpenAPI 3.1 document (no database needed).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user, e.g. the first admin. The address counts as
    /// confirmed.
    Create {
        /// The user's email address (it signs in with it).
        #[arg(long, value_name = "ADDRESS")]
        email: String,
        /// "admin" may use the admin API and sees every user; "user" is
        /// everyone else. (Other role names, for your own services, can be
        /// set through PATCH /v1/admin/users/{id}.)
        #[arg(long, default_value = "user", value_parser = PossibleValuesParser::new(KNOWN_ROLES))]
        role: String,
        /// Read the password from standard input (one line). Without it the
        /// account has no password until one is set.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Import users with their password hashes: one JSON object a line
    /// (docs/import.md). Prints the report as JSON; exits 1 when a line
    /// failed for another reason than an address that exists. Running the
    /// same file again adds only what is missing.
    Import {
        /// The file; "-" reads standard input.
        file: PathBuf,
        /// Check every line and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write every user to standard output, one JSON object a line: the
    /// format `import` reads.
    Export {
        /// Include the password hashes (keep the file as safe as the
        /// database).
        #[arg(long)]
        with_hashes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new signing key. Every instance publishes it in the JWKS
    /// within `jwt.key_reload` and signs with it from the longer of twice
    /// that and that plus 30 s (plus 5 s) after the rotation; the old one
    /// stays in the JWKS until its tokens have expired.
    Rotate {
        /// Rotate the RSA key that decrypts request bodies instead: the new
        /// key decrypts within `jwt.key_reload`, is served from the same
        /// delay after the rotation, and the previous one still decrypts for 24
        /// hours.
        #[arg(long)]
        rsa: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it, alone, on standard output. It is shown only
    /// this once: toktok keeps just its hash.
    Create {
        /// A label saying who uses the key, e.g. "billing service".
        #[arg(long)]
        name: String,
        /// What the key may do; repeat for several.
        #[arg(long = "scope", required = true, value_name = "SCOPE", value_parser = scope_parser())]
        scopes: Vec<Scope>,
    },
    /// List every key, revoked ones included (never the keys themselves).
    List,
    /// Revoke a key at once; it stays in the list, marked revoked.
    Revoke {
        /// The key's id, as `api-key list` shows it.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client. Prints its client_id on standard output and, for
    /// a confidential client, its secret on the next line: shown only this
    /// once (toktok keeps just a hash).
    Create {
        /// The name users see on the consent page, e.g. "Wiki".
        #[arg(long)]
        name: String,
        /// Where the client receives the authorization code: https, or
        /// http on localhost, 127.0.0.1 or `[::1]`; no wildcard, no fragment.
        /// Compared exactly. Repeat for several.
        #[arg(long = "redirect-uri", required = true, value_name = "URI")]
        redirect_uris: Vec<String>,
        /// A public client (a browser or native app, which cannot keep a
        /// secret); without it the client is confidential.
        #[arg(long)]
        public: bool,
        /// What the client may ask for; repeat for several (default: all).
        #[arg(long = "scope", value_name = "SCOPE",
            value_parser = PossibleValuesParser::new(crate::accounts::oauth_clients::SCOPES))]
        scopes: Vec<String>,
    },
    /// List every client (never a secret).
    List,
    /// Delete a client, with every grant to it; its sessions end at once.
    Delete {
        /// The client_id, as `client list` shows it.
        id: String,
    },
}

/// The roles `user create --role` accepts: the two toktok itself gives a
/// meaning to. A typo such as `amdin` is refused, naming these.
pub const KNOWN_ROLES: [&str; 2] = ["user", "admin"];

/// `--scope`: the allowed names show in `--help`, and clap itself refuses
/// any other, naming the allowed ones.
fn scope_parser() -> impl clap::builder::TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(Scope::ALL.map(Scope::as_str)).try_map(|s| s.parse::<Scope>())
}

/// The configuration file to read: `--config` (or `TOKTOK_CONFIG`), else
/// `./toktok.toml` when the working directory has one (where `toktok init`
/// writes it), else none (built-in defaults).
pub fn config_path(cli: &Cli) -> Option<PathBuf> {
    cli.config.clone().or_else(|| {
        let local = PathBuf::from("toktok.toml");
        local.is_file().then_some(local)
    })
}

/// Which configuration a command runs with, in words, for `check` and the
/// start-up log.
fn config_source(cli: &Cli) -> String {
    match config_path(cli) {
        Some(path) => format!("read {}", path.display()),
        None => "built-in defaults (no --config, no TOKTOK_CONFIG, no ./toktok.toml)".to_owned(),
    }
}

/// Loads the configuration the command line names ([`config_path`]).
pub fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    Config::load(config_path(cli).as_deref()).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The tracing settings for this command: the configured format, and the
/// configured level for `serve`. One-off commands log warnings and errors
/// only (their result is what they print; the audit events they cause
/// are in the audit log); `RUST_LOG` still overrides both.
pub fn log_settings(cli: &Cli, config: &Config) -> (bool, String) {
    let serving = matches!(cli.command, None | Some(Command::Serve));
    let level = if serving {
        config.log.level.clone()
    } else {
        "warn".to_owned()
    };
    (config.log.format == LogFormat::Json, level)
}

/// Whether `error` comes from writing to a closed pipe (`toktok openapi |
/// head`): the reader has what it wanted, so the command stops quietly.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes `text` and a newline to standard output; an error (a closed
/// pipe, say) is returned rather than a panic, as `println!` would.
fn print_line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// Runs the command; `Ok(code)` is the process exit code.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<i32> {
    let source = config_source(&cli);
    let command = cli.command.unwrap_or(Command::Serve);
    if matches!(command, Command::Serve | Command::User { .. }) {
        if let Err(e) = mail_config(&config) {
            // Printed as main prints a configuration error, with its code.
            eprintln!("toktok: configuration error: {e:#}");
            return Ok(2);
        }
    }
    match command {
        Command::Serve => serve::serve(config, &source).await.map(|()| 0),
        Command::Init {
            dir,
            data_dir,
            hs256,
        } => init::init(&dir, data_dir.as_deref(), hs256).map(|()| 0),
        Command::Check => Ok(check::check(&config, &source).await),
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    role,
                    password_stdin,
                },
        } => user::user_create(config, &email, &role, password_stdin)
            .await
            .map(|()| 0),
        Command::User {
            command: UserCommand::Import { file, dry_run },
        } => import::import(config, &file, dry_run).await,
        Command::User {
            command: UserCommand::Export { with_hashes },
        } => import::export(config, with_hashes).await,
        Command::Keys {
            command: KeysCommand::Rotate { rsa: false },
        } => keys::keys_rotate(config).await.map(|()| 0),
        Command::Keys {
            command: KeysCommand::Rotate { rsa: true },
        } => keys::keys_rotate_rsa(config).await.map(|()| 0),
        Command::ApiKey { command } => api_key::api_key(config, command).await.map(|()| 0),
        Command::Client { command } => client::client(config, command).await.map(|()| 0),
        Command::Backup { path } => data::backup(&config, path).await.map(|()| 0),
        Command::MigrateTo { url } => data::migrate_to(&config, url).await.map(|()| 0),
        Command::Openapi => {
            let document = crate::http::openapi::document();
            print_line(&serde_json::to_string_pretty(&document)?)?;
            Ok(0)
        }
    }
}

/// What the commands that build the [`App`](crate::App) would refuse
/// in the configuration alone: the mail templates (the built-in ones and
/// the overrides in `email.templates_dir`), `email.from`, and the message
/// overrides in `branding.messages_dir`, built as `App::build` and `check`
/// build them. Found before anything is opened,
/// so they stop with exit code 2 like any configuration error (docs/configuration.md,
/// "Exit codes"), not 1 as a failure while starting.
fn mail_config(config: &Config) -> anyhow::Result<()> {
    crate::mail::Mailer::check(config)?;
    crate::i18n::Catalogues::load(&config.branding.messages_dir)?;
    Ok(())
}

/// Prints `rows` (the first is the header) as columns two spaces apart.
fn print_table(rows: &[Vec<String>]) -> anyhow::Result<()> {
    let columns = rows.first().map_or(0, Vec::len);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    for row in rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            line.push_str(cell);
            if i + 1 != row.len() {
                let pad = width - cell.chars().count();
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Opens the configured database for a one-off command.
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let database = config.database.clone();
    tokio::task::spawn_blocking(move || Store::open(&database)).await?
}

/// The directory a file is created in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}
