//! The command line (API.md "Command line"): parsing with clap, and one
//! function per command. `main.rs` only calls [`run`].

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Parser, Subcommand};

use crate::app::new_key_row;
use crate::auth::api_keys::{self, Scope};
use crate::auth::jwt::Algorithm;
use crate::auth::rotation;
use crate::auth::rsa;
use crate::clock::{rfc3339, Clock as _, SystemClock};
use crate::config::{Config, EmailMode, LogFormat};
use crate::store::{
    schema_version, ApiKeyRecord, AuditEvent, Db, RsaKeyRow, Store, SCHEMA_VERSION,
};
use crate::App;

/// The shipped, commented configuration: what `toktok init` writes.
pub const CONFIG_TEMPLATE: &str = include_str!("../toktok.toml");

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
    /// Manage users.
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
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config, &source).await.map(|()| 0),
        Command::Init {
            dir,
            data_dir,
            hs256,
        } => init(&dir, data_dir.as_deref(), hs256).map(|()| 0),
        Command::Check => Ok(check(&config, &source).await),
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    role,
                    password_stdin,
                },
        } => user_create(config, &email, &role, password_stdin)
            .await
            .map(|()| 0),
        Command::Keys {
            command: KeysCommand::Rotate { rsa: false },
        } => keys_rotate(config).await.map(|()| 0),
        Command::Keys {
            command: KeysCommand::Rotate { rsa: true },
        } => keys_rotate_rsa(config).await.map(|()| 0),
        Command::ApiKey { command } => api_key(config, command).await.map(|()| 0),
        Command::Backup { path } => backup(&config, path).await.map(|()| 0),
        Command::MigrateTo { url } => migrate_to(&config, url).await.map(|()| 0),
        Command::Openapi => {
            let document = crate::http::openapi::document();
            print_line(&serde_json::to_string_pretty(&document)?)?;
            Ok(0)
        }
    }
}

async fn serve(config: Config, source: &str) -> anyhow::Result<()> {
    tracing::info!("configuration: {source}");
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let listen = config.server.listen;
    let app = App::build(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (server.listen)"))?;
    // `/metrics` has a listener of its own, loopback by default (TT-10).
    let metrics = match config_metrics(&app) {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr} (metrics.listen; \"off\" turns it off)")
        })?),
        None => None,
    };
    spawn_key_reloader(app.clone());
    // The database is open and migrated (App::build) and the port bound:
    // connections queue in the kernel from here on, so systemd may start
    // what depends on toktok.
    notify_systemd(sd_notify::NotifyState::Ready);
    let shutdown = async {
        crate::shutdown_signal().await;
        notify_systemd(sd_notify::NotifyState::Stopping);
    };
    crate::serve_with(listener, metrics, app, shutdown).await
}

/// Where `/metrics` is to be served, if anywhere.
fn config_metrics(app: &App) -> Option<std::net::SocketAddr> {
    let metrics = &app.state().config.metrics;
    metrics.listen.filter(|_| metrics.enabled)
}

/// Tells systemd (`Type=notify`) about a state change through
/// `$NOTIFY_SOCKET`; does nothing when it is unset, i.e. outside systemd.
fn notify_systemd(state: sd_notify::NotifyState<'_>) {
    if let Err(e) = sd_notify::notify(&[state]) {
        tracing::warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}

/// SIGHUP rereads the keys at once, without waiting for `jwt.key_reload`.
fn spawn_key_reloader(app: App) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; key reloads need a restart");
            return;
        };
        while hup.recv().await.is_some() {
            match app.state().reload_keys().await {
                Ok(()) => tracing::info!("keys reread (SIGHUP)"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "signing key reload failed"),
            }
        }
    });
    #[cfg(not(unix))]
    drop(app);
}

fn random_secret() -> anyhow::Result<String> {
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
            .replace("secret = \"\"", &format!("secret = \"{secret}\""));
    }
    Ok(text)
}

fn init(dir: &Path, data_dir: Option<&Path>, hs256: bool) -> anyhow::Result<()> {
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
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
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

fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

/// Prints a report and returns the exit code: 0 when everything is usable.
async fn check(config: &Config, source: &str) -> i32 {
    let mut problems = 0;
    println!("config: ok ({source})");
    for warning in config.warnings() {
        println!("config warning: {warning}");
    }
    // What `serve` builds before it listens, built the same way (TT-14):
    // the templates (overrides in email.templates_dir included) and the
    // sender mailbox.
    match crate::mail::Mailer::check(config) {
        Ok(Some(_)) => println!("mail: templates and email.from ok"),
        // Off: serve checks the templates only, and so does check.
        Ok(None) => println!("mail: templates ok"),
        Err(e) => {
            problems += 1;
            println!("mail: PROBLEM: {e:#}");
        }
    }
    if config.email.mode == EmailMode::Dev {
        let outbox = &config.email.outbox_dir;
        match writable_dir(outbox) {
            Ok(()) => println!("outbox: {} is writable", outbox.display()),
            Err(e) => {
                problems += 1;
                println!(
                    "outbox: PROBLEM: email.outbox_dir {}: {e:#}",
                    outbox.display()
                );
            }
        }
    }
    let path = &config.database.path;
    if let Some(url) = &config.database.url {
        let url = url.expose().to_owned();
        #[cfg(feature = "postgres")]
        let checked = tokio::task::spawn_blocking(move || crate::store::postgres::check(&url))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r);
        #[cfg(not(feature = "postgres"))]
        let checked: anyhow::Result<String> = {
            drop(url);
            Err(anyhow::anyhow!(crate::store::NO_POSTGRES))
        };
        match checked {
            Ok(report) => println!("database: {report}"),
            Err(e) => {
                problems += 1;
                println!("database: PROBLEM: {e:#}");
            }
        }
    } else if !path.exists() {
        match writable_dir(&parent_dir(path)) {
            Ok(()) => println!(
                "database: {} does not exist yet; it will be created",
                path.display()
            ),
            Err(e) => {
                problems += 1;
                println!(
                    "database: PROBLEM: {} cannot be created: {e:#}",
                    path.display()
                );
            }
        }
    } else {
        match check_database(path) {
            Ok(report) => println!("database: {report}"),
            Err(e) => {
                problems += 1;
                println!("database: PROBLEM: {e:#}");
            }
        }
    }
    if config.email.mode == EmailMode::Smtp {
        let smtp = &config.smtp;
        let relay = format!("{}:{} (tls {})", smtp.host, smtp.port, smtp.tls.as_str());
        match crate::mail::transport::probe_smtp(config).await {
            Ok(()) => println!("smtp: {relay} answered EHLO and NOOP"),
            Err(e) => {
                problems += 1;
                println!("smtp: PROBLEM: {relay}: {e:#}");
            }
        }
    } else {
        println!(
            "email: mode \"{}\" (no SMTP relay to check)",
            config.email.mode.as_str()
        );
    }
    if problems == 0 {
        println!("all checks passed");
        0
    } else {
        1
    }
}

/// The directory a file is created in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Whether toktok could create files in `dir`, as `serve` will: in `dir`
/// itself when it exists, else in the nearest ancestor that does (`serve`
/// creates the missing ones). Tried for real, with a file created and
/// removed at once, so permissions, read-only mounts and ACLs all count.
fn writable_dir(dir: &Path) -> anyhow::Result<()> {
    let mut existing = dir.to_owned();
    while !existing.exists() {
        existing = parent_dir(&existing);
        if existing == Path::new(".") && !existing.exists() {
            break;
        }
    }
    if !existing.is_dir() {
        bail!("{} is not a directory", existing.display());
    }
    let probe = existing.join(format!(".toktok-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("cannot create files in {}", existing.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn check_database(path: &Path) -> anyhow::Result<String> {
    // SQLite writes beside the file (-wal, -shm) and the file itself.
    writable_dir(&parent_dir(path))?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    let version = schema_version(&conn).context("cannot read the schema version")?;
    if version > SCHEMA_VERSION {
        bail!(
            "schema version {version} is newer than this toktok ({SCHEMA_VERSION}): it was \
             written by a newer toktok; run that version or restore a backup"
        );
    }
    let integrity: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .context("integrity check failed to run")?;
    if integrity != "ok" {
        bail!("integrity check: {integrity}");
    }
    let pending = SCHEMA_VERSION - version;
    let mut report = format!(
        "{} ok (schema {version}, {pending} migration(s) pending)",
        path.display()
    );
    if version >= 1 {
        // TT-11: accounts the NFKC address rule leaves for the operator.
        let rows = conn
            .prepare("SELECT id, email, email_key FROM users")
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<Vec<(String, String, String)>>>()
            })
            .context("cannot read the users")?;
        for problem in crate::domain::email::plan_rekey(&rows).problems() {
            report.push_str("\ndatabase warning: ");
            report.push_str(&problem);
        }
    }
    Ok(report)
}

async fn user_create(
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
fn cli_error(error: crate::error::ApiError) -> anyhow::Error {
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

async fn keys_rotate(config: Config) -> anyhow::Result<()> {
    let alg = config.jwt.algorithm;
    if alg == Algorithm::HS256 {
        bail!("jwt.algorithm is HS256: its key is jwt.secret; rotate by changing the secret");
    }
    let store = open_store(&config).await?;
    let row = new_key_row(alg, SystemClock.now()).await?;
    let kid = row.kid.clone();
    store.insert_signing_key(row).await?;
    let delay = rotation::publish_delay(config.jwt.key_reload);
    println!(
        "new {} signing key {kid}: in the JWKS within {}s (jwt.key_reload), \
         signing from {delay}s after now",
        alg.as_str(),
        config.jwt.key_reload.as_secs(),
    );
    Ok(())
}

/// `keys rotate --rsa`: a new current RSA key; the others are retired now
/// and keep decrypting for the grace period.
async fn keys_rotate_rsa(config: Config) -> anyhow::Result<()> {
    if !config.rsa.enabled {
        bail!("rsa.enabled is false: there is no RSA key to rotate");
    }
    let store = open_store(&config).await?;
    let bits = config.rsa.key_bits;
    let key = tokio::task::spawn_blocking(move || rsa::generate_key(bits))
        .await
        .context("the RSA key generation task failed")??;
    let kid = key.kid.clone();
    let now = SystemClock.now();
    store
        .rotate_rsa_key(
            RsaKeyRow {
                kid: key.kid,
                private_der: key.private_der,
                created_at: now,
                retired_at: None,
            },
            now,
        )
        .await
        .context("while storing the new RSA key")?;
    let delay = rotation::publish_delay(config.jwt.key_reload);
    println!(
        "new RSA key {kid}: decrypts within {}s (jwt.key_reload), served from {delay}s \
         after now; the previous key still decrypts for {} hours",
        config.jwt.key_reload.as_secs(),
        rsa::GRACE_PERIOD / 3600
    );
    Ok(())
}

/// Opens the configured database for a one-off command.
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let database = config.database.clone();
    tokio::task::spawn_blocking(move || Store::open(&database)).await?
}

/// The longest API key name accepted: a label, not a document.
const MAX_KEY_NAME: usize = 200;

async fn api_key(config: Config, command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create { name, scopes } => api_key_create(&config, name, scopes).await,
        ApiKeyCommand::List => api_key_list(&config).await,
        ApiKeyCommand::Revoke { id } => api_key_revoke(&config, &id).await,
    }
}

fn cli_event(kind: &'static str, at: i64, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        at,
        kind,
        user_id: None,
        actor: Some("cli".to_owned()),
        ip: None,
        user_agent: None,
        detail,
    }
}

async fn api_key_create(config: &Config, name: String, scopes: Vec<Scope>) -> anyhow::Result<()> {
    let name = name.trim().to_owned();
    if name.is_empty() {
        bail!("--name must not be empty");
    }
    if name.len() > MAX_KEY_NAME {
        bail!("--name is longer than {MAX_KEY_NAME} bytes");
    }
    if name.chars().any(char::is_control) {
        bail!("--name must not contain control characters");
    }
    let mut unique: Vec<Scope> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        if !unique.contains(&scope) {
            unique.push(scope);
        }
    }
    let store = open_store(config).await?;
    let (key, key_hash) = api_keys::generate()?;
    let now = SystemClock.now();
    let record = ApiKeyRecord {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        scopes: unique,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let event = cli_event(
        "api_key.created",
        now,
        serde_json::json!({ "id": record.id, "name": record.name, "scopes": record.scopes }),
    );
    let (id, scope_list) = (record.id.clone(), scope_names(&record.scopes));
    store
        .insert_api_key(record, key_hash, event)
        .await
        .context("while storing the new API key")?;
    eprintln!("created API key {id} with scope(s) {scope_list}; it is shown only once:");
    println!("{key}");
    Ok(())
}

fn scope_names(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

async fn api_key_list(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let keys = store.list_api_keys().await?;
    if keys.is_empty() {
        eprintln!("no API keys; create one with: toktok api-key create --name N --scope S");
        return Ok(());
    }
    let when = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), rfc3339);
    let mut rows = vec![[
        "ID".to_owned(),
        "NAME".to_owned(),
        "SCOPES".to_owned(),
        "CREATED".to_owned(),
        "LAST USED".to_owned(),
        "REVOKED".to_owned(),
    ]];
    rows.extend(keys.iter().map(|k| {
        [
            k.id.clone(),
            k.name.clone(),
            scope_names(&k.scopes),
            rfc3339(k.created_at),
            when(k.last_used_at),
            when(k.revoked_at),
        ]
    }));
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = width - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

async fn api_key_revoke(config: &Config, id: &str) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let now = SystemClock.now();
    let event = cli_event("api_key.revoked", now, serde_json::json!({ "id": id }));
    if store.revoke_api_key(id, now, event).await? {
        eprintln!("revoked API key {id}");
        return Ok(());
    }
    let known = store
        .list_api_keys()
        .await?
        .into_iter()
        .find(|k| k.id == id);
    match known.and_then(|k| k.revoked_at) {
        Some(at) => bail!("API key {id} was already revoked at {}", rfc3339(at)),
        None => bail!("there is no API key with id {id} (see toktok api-key list)"),
    }
}

async fn migrate_to(config: &Config, url: String) -> anyhow::Result<()> {
    if config.database.url.is_some() {
        bail!(
            "migrate-to copies the SQLite database at database.path; this config sets database.url"
        );
    }
    let path = config.database.path.clone();
    if !path.exists() {
        bail!("there is no database at {} (database.path)", path.display());
    }
    let copied = tokio::task::spawn_blocking(move || copy_to_postgres(&path, &url)).await??;
    for (table, rows) in copied {
        println!("{table}: {rows} rows");
    }
    println!("copied and verified; set database.url to this database (and remove database.path)");
    Ok(())
}

/// Migrates the SQLite file at `path` to this binary's schema, then copies
/// it into the empty PostgreSQL database at `url`. Blocking.
#[cfg(feature = "postgres")]
fn copy_to_postgres(path: &Path, url: &str) -> anyhow::Result<Vec<(&'static str, i64)>> {
    drop(Db::open(path)?);
    let mut conn = rusqlite::Connection::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    crate::store::postgres::copy_from_sqlite(&mut conn, url)
}

#[cfg(not(feature = "postgres"))]
fn copy_to_postgres(_: &Path, _: &str) -> anyhow::Result<Vec<(&'static str, i64)>> {
    bail!(crate::store::NO_POSTGRES)
}

async fn backup(config: &Config, dest: PathBuf) -> anyhow::Result<()> {
    if dest.exists() {
        bail!("{} exists; choose a new path", dest.display());
    }
    if config.database.url.is_some() {
        bail!(
            "toktok backup copies the SQLite file; this toktok uses PostgreSQL \
             (database.url): back it up with pg_dump or your provider's snapshots"
        );
    }
    let path = config.database.path.clone();
    if !path.exists() {
        bail!("there is no database at {} (database.path)", path.display());
    }
    let target_dir = parent_dir(&dest);
    if !target_dir.is_dir() {
        bail!(
            "the directory {} does not exist; create it first (the backup goes to {})",
            target_dir.display(),
            dest.display()
        );
    }
    let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
    db.backup(dest.clone())
        .await
        .with_context(|| format!("while writing the backup to {}", dest.display()))?;
    restrict(&dest);
    println!("backup written to {}", dest.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_hs256_secrets_are_random_enough_for_the_entropy_check() {
        // TT-13: the warning must never fire on what `init --hs256` writes.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let secret = random_secret().unwrap();
            assert_eq!(secret.len(), 64, "48 bytes, base64url");
            assert_eq!(crate::config::weak_secret(&secret), None, "{secret}");
            assert!(seen.insert(secret), "a fresh secret each time");
        }
    }

    #[test]
    fn a_validation_error_names_the_flag_and_the_reason() {
        use crate::error::{ApiError, FieldError};
        let e = cli_error(ApiError::Validation(vec![
            FieldError::new("email", "is not a valid email address"),
            FieldError::new("app_metadata", "must be a JSON object"),
        ]));
        assert_eq!(
            e.to_string(),
            "--email: is not a valid email address; --app-metadata: must be a JSON object"
        );
    }
}
