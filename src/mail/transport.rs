//! Transports: how a rendered message leaves toktok.
//!
//! - `email.mode = "dev"` ([`Transport::Dev`]): each message becomes an
//!   RFC 5322 `.eml` file in `email.outbox_dir` (created owner-only; files
//!   mode 0600, since they hold live links), and its recipient, kind and
//!   link are logged at INFO so a developer can click it from the terminal
//!   (docs/API.md "Email links"). Nothing leaves the machine.
//! - `email.mode = "smtp"` ([`Transport::Smtp`]): lettre's async SMTP client
//!   over tokio, TLS by rustls with the ring provider and the webpki roots
//!   (`smtp.tls`: `none`, `starttls` required, or implicit `tls`), optional
//!   credentials, a small connection pool, and `smtp.timeout` bounding each
//!   delivery as a whole — lettre's own timeout covers only connecting, and
//!   a relay that accepts a connection and then says nothing must not hold
//!   the worker.
//! - `email.mode = "off"`: no transport at all ([`Transport::from_config`]
//!   answers `None`).
//!
//! Both transports send the same bytes: [`build_message`] makes a
//! `multipart/alternative` message (plain text, then HTML), marked
//! `Auto-Submitted: auto-generated` (RFC 3834) and with the
//! `Content-Language` it is written in (RFC 3282). Bodies that are
//! ASCII go out as `7bit`, so a link reads in the raw message exactly as it
//! will be clicked; others fall back to lettre's choice (quoted-printable or
//! base64). Failures are classified for the worker ([`SendError`]):
//! transient ones (connection refused or reset, timeout, a 4xx reply, TLS
//! trouble, a refused login) are retried; permanent ones (a 5xx reply, an
//! address that cannot be written) are given up.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::templates::Rendered;
use super::MailKind;
use crate::config::{Config, EmailMode, SmtpConfig, SmtpTls};
use crate::i18n::Locale;

/// A message ready to leave: rendered, with its link already minted.
#[derive(Clone, PartialEq, Eq)]
pub struct Letter {
    /// The outbox row's id (names the `.eml` file in dev mode).
    pub id: String,
    pub kind: MailKind,
    pub to: String,
    pub rendered: Rendered,
    /// The language it is written in (its `Content-Language`, RFC 3282).
    pub locale: Locale,
    /// The link in the message, if any: logged in dev mode only.
    pub link: Option<String>,
}

impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bodies hold a live token.
        f.debug_struct("Letter")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("subject", &self.rendered.subject)
            .finish_non_exhaustive()
    }
}

/// Why a message was not sent. The text never holds the message body, so
/// it may be stored and logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later.
    #[error("{0}")]
    Transient(String),
    /// Will fail the same way every time.
    #[error("{0}")]
    Permanent(String),
}

/// Where messages go; `None` from [`Transport::from_config`] when mail is off.
pub enum Transport {
    Dev(DevTransport),
    Smtp(SmtpTransport),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Dev(dev) => f.debug_tuple("Dev").field(&dev.dir).finish(),
            Transport::Smtp(smtp) => f
                .debug_struct("Smtp")
                .field("host", &smtp.config.host)
                .field("port", &smtp.config.port)
                .finish_non_exhaustive(),
        }
    }
}

impl Transport {
    /// The transport `email.mode` asks for. Connects to nothing yet: an SMTP
    /// relay that is down at start delays mail, it does not stop toktok.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Transport>> {
        if config.email.mode == EmailMode::Off {
            return Ok(None);
        }
        let from = parse_from(&config.email.from)?;
        let hello = hello_name(&config.server.public_url);
        Ok(match config.email.mode {
            EmailMode::Off => None,
            EmailMode::Dev => Some(Transport::Dev(DevTransport {
                dir: config.email.outbox_dir.clone(),
                from,
                hello,
            })),
            EmailMode::Smtp => Some(Transport::Smtp(SmtpTransport::new(
                &config.smtp,
                from,
                hello,
            )?)),
        })
    }

    /// Sends one message. `now` (unix seconds) names dev-mode files.
    pub async fn send(&self, letter: &Letter, now: i64) -> Result<(), SendError> {
        match self {
            Transport::Dev(dev) => dev.send(letter, now).await,
            Transport::Smtp(smtp) => smtp.send(letter).await,
        }
    }
}

fn parse_from(from: &str) -> anyhow::Result<Mailbox> {
    from.parse::<Mailbox>().map_err(|e| {
        anyhow::anyhow!(
            "email.from: {e}; expected a mailbox like \"toktok <no-reply@example.com>\", got {from:?}"
        )
    })
}

/// The EHLO name and Message-ID domain: the host of `server.public_url`,
/// which is the name this server is known by.
fn hello_name(public_url: &str) -> ClientId {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => ClientId::Ipv4(v4),
        Ok(IpAddr::V6(v6)) => ClientId::Ipv6(v6),
        Err(_) if !host.is_empty() => ClientId::Domain(host.to_owned()),
        Err(_) => ClientId::Domain("localhost".to_owned()),
    }
}

/// `text` as a body that keeps links intact: `7bit` whenever RFC 5322
/// allows it (ASCII, no NUL or bare CR, lines of at most 998 octets), so a
/// link reads in the raw message exactly as it will be clicked. lettre's
/// own choice would switch to quoted-printable above 76 characters a line,
/// which any link with a token exceeds. Anything else (non-ASCII text from
/// a template override, say) goes to lettre, which picks quoted-printable
/// or base64.
fn body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let plain = crlf.is_ascii()
        && !crlf.contains('\0')
        && crlf
            .split("\r\n")
            .all(|line| line.len() <= 998 && !line.contains('\r'));
    if plain {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    }
}

/// The RFC 5322 message for `letter`. A fresh Message-ID every time, so a
/// resent message (with its newer link) is never taken for a duplicate.
pub fn build_message(
    from: &Mailbox,
    hello: &ClientId,
    letter: &Letter,
) -> Result<Message, SendError> {
    let to: Address = letter
        .to
        .trim()
        .parse()
        .map_err(|e| SendError::Permanent(format!("invalid recipient address: {e}")))?;
    // Our own name when we have one, else the sender's domain.
    let domain = match hello {
        ClientId::Domain(d) => d.clone(),
        _ => from.email.domain().to_owned(),
    };
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(letter.rendered.subject.clone())
        .message_id(Some(format!(
            "<{}@{domain}>",
            uuid::Uuid::new_v4().simple()
        )))
        // RFC 3834: machine-made mail. Auto-responders (vacation replies)
        // stay quiet, and filters can tell it from a person's mail.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            letter.locale.as_str().to_owned(),
        ))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(body(&letter.rendered.text)),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(body(&letter.rendered.html)),
                ),
        )
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}

/// Dev mode: messages as files.
pub struct DevTransport {
    dir: PathBuf,
    from: Mailbox,
    hello: ClientId,
}

impl DevTransport {
    async fn send(&self, letter: &Letter, now: i64) -> Result<(), SendError> {
        let message = build_message(&self.from, &self.hello, letter)?;
        let path = self.dir.join(format!(
            "{}-{}-{}.eml",
            file_timestamp(now),
            letter.kind.as_str(),
            letter.id
        ));
        let bytes = message.formatted();
        let dir = self.dir.clone();
        let file = path.clone();
        tokio::task::spawn_blocking(move || write_private(&dir, &file, &bytes))
            .await
            .map_err(|e| SendError::Transient(format!("writing the message failed: {e}")))?
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", path.display())))?;
        // A dev convenience docs/API.md asks for: the link, clickable from the
        // terminal. Only dev mode ever logs a link.
        tracing::info!(
            to = %letter.to,
            kind = letter.kind.as_str(),
            link = letter.link.as_deref().unwrap_or(""),
            file = %path.display(),
            "dev mail written"
        );
        Ok(())
    }
}

/// `20261123T184202Z`: sorts by time, safe in file names.
fn file_timestamp(now: i64) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| now.to_string())
}

/// Creates `dir` (owner-only) if needed and writes `file` with mode 0600,
/// whole or not at all: the bytes go to a hidden temporary file that is
/// renamed into place once on disk, so a crash mid-write leaves no torn
/// message for a reader to find (and the row is retried).
fn write_private(
    dir: &std::path::Path,
    file: &std::path::Path,
    bytes: &[u8],
) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let partial = dir.join(format!(".{name}.partial"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&partial)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    std::fs::rename(&partial, file)?;
    // The rename itself is durable once the directory is.
    std::fs::File::open(dir)?.sync_all()
}

type Smtp = AsyncSmtpTransport<Tokio1Executor>;

/// SMTP mode: lettre's pooled async client.
pub struct SmtpTransport {
    config: SmtpConfig,
    from: Mailbox,
    hello: ClientId,
    /// The pooled client. Replaced after a timeout: the abandoned exchange
    /// may have left a pooled connection mid-dialogue, and reusing it could
    /// pair the next command with a stale reply.
    client: Mutex<Smtp>,
}

impl SmtpTransport {
    fn new(config: &SmtpConfig, from: Mailbox, hello: ClientId) -> anyhow::Result<SmtpTransport> {
        let client = smtp_client(config, &hello)?;
        Ok(SmtpTransport {
            config: config.clone(),
            from,
            hello,
            client: Mutex::new(client),
        })
    }

    fn client(&self) -> Smtp {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn send(&self, letter: &Letter) -> Result<(), SendError> {
        let message = build_message(&self.from, &self.hello, letter)?;
        let client = self.client();
        let timeout = self.config.timeout;
        match tokio::time::timeout(timeout, client.send(message)).await {
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(e)) => Err(classify(&e)),
            Err(_elapsed) => {
                match smtp_client(&self.config, &self.hello) {
                    Ok(fresh) => {
                        *self.client.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
                    }
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "cannot renew the SMTP client")
                    }
                }
                Err(SendError::Transient(format!(
                    "no answer from {}:{} within {} s",
                    self.config.host,
                    self.config.port,
                    timeout.as_secs()
                )))
            }
        }
    }
}

/// Builds the client; connects to nothing.
fn smtp_client(config: &SmtpConfig, hello: &ClientId) -> anyhow::Result<Smtp> {
    let tls = match config.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls | SmtpTls::Tls => {
            let params = TlsParameters::new(config.host.clone())
                .with_context(|| format!("smtp.host: cannot set up TLS for {:?}", config.host))?;
            if config.tls == SmtpTls::Tls {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let mut builder = Smtp::builder_dangerous(config.host.clone())
        .port(config.port)
        .tls(tls)
        .hello_name(hello.clone())
        .timeout(Some(config.timeout))
        // One worker sends one message at a time; a second connection only
        // helps while the first is being recycled.
        .pool_config(
            PoolConfig::new()
                .max_size(2)
                .idle_timeout(Duration::from_secs(60)),
        );
    if !config.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            config.username.clone(),
            config.password.expose().to_owned(),
        ));
    }
    Ok(builder.build())
}

/// `toktok check`: connects to the configured relay and says EHLO (then
/// STARTTLS and AUTH, as configured) and NOOP, all within `smtp.timeout`,
/// with the very client the worker would build.
pub async fn probe_smtp(config: &Config) -> anyhow::Result<()> {
    let client = smtp_client(&config.smtp, &hello_name(&config.server.public_url))?;
    let timeout = config.smtp.timeout;
    match tokio::time::timeout(timeout, client.test_connection()).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => anyhow::bail!("the relay did not answer NOOP"),
        Ok(Err(e)) => anyhow::bail!("{e}"),
        Err(_elapsed) => anyhow::bail!("no answer within {} s (smtp.timeout)", timeout.as_secs()),
    }
}

/// Sorts lettre's errors into retry or give up. lettre's `Display` names
/// the failing step and the server's reply, never the message body.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let text = e.to_string();
    if e.is_permanent() {
        let code = e.status().map(|c| c.to_string()).unwrap_or_default();
        // 530/534/535/538: authentication required or refused. That is the
        // relay's or the operator's problem, not this message's: keep it
        // until fixed (or given up after email.give_up_after).
        if matches!(code.as_str(), "530" | "534" | "535" | "538") {
            tracing::warn!(error = %text, "the SMTP relay refused our login; check smtp.username and smtp.password");
            return SendError::Transient(text);
        }
        return SendError::Permanent(text);
    }
    if e.is_client() {
        // lettre refused before talking: e.g. a non-ASCII address the relay
        // cannot take (no SMTPUTF8). The same every time.
        return SendError::Permanent(text);
    }
    // 4xx, timeouts, refused or reset connections, TLS, garbled replies.
    SendError::Transient(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::templates::{Templates, Vars};

    fn letter(to: &str) -> Letter {
        let link = "http://127.0.0.1:8080/v1/auth/confirm-email?token=AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllMMMMnnnnOOOOppppQQQQrrrrSSSSttttUUUUvvvvWWWWxxxx_-";
        let rendered = Templates::load(std::path::Path::new("")).unwrap().render(
            MailKind::ConfirmAccount,
            crate::i18n::Locale::En,
            &Vars {
                app_name: "toktok",
                link,
                expires_in: "24 hours",
                email: to,
                new_email: "",
                code: "",
            },
        );
        Letter {
            id: "0190a0b0-0000-7000-8000-000000000001".to_owned(),
            kind: MailKind::ConfirmAccount,
            to: to.to_owned(),
            rendered,
            locale: crate::i18n::Locale::En,
            link: Some(link.to_owned()),
        }
    }

    #[tokio::test]
    async fn dev_mode_writes_a_private_eml_with_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("nested").join("outbox");
        let toml = format!(
            "[email]\nmode = \"dev\"\noutbox_dir = {:?}\n",
            outbox.to_string_lossy()
        );
        let config = Config::from_sources(Some(&toml), []).unwrap();
        let transport = Transport::from_config(&config).unwrap().unwrap();
        let l = letter("ann@example.com");
        transport.send(&l, 1_790_000_000).await.unwrap();

        let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let name = files[0].file_name().to_string_lossy().into_owned();
        assert_eq!(
            name,
            "20260921T141320Z-confirm_account-0190a0b0-0000-7000-8000-000000000001.eml"
        );
        let text = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(text.contains("To: ann@example.com\r\n"), "{text}");
        assert!(
            text.contains("From: toktok <no-reply@localhost>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Subject: Confirm your toktok account\r\n"),
            "{text}"
        );
        assert!(text.contains("Message-ID: <"), "{text}");
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: 7bit"), "{text}");
        // The link is in the raw file exactly as it will be clicked.
        assert!(text.contains(l.link.as_deref().unwrap()), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&files[0].path()), 0o600);
            assert_eq!(mode(&outbox), 0o700);
        }
    }

    #[test]
    fn non_ascii_bodies_are_encoded_and_bad_addresses_are_permanent() {
        let from: Mailbox = "toktok <no-reply@localhost>".parse().unwrap();
        let hello = ClientId::Domain("auth.example.com".into());
        let mut l = letter("ann@example.com");
        l.rendered.text.push_str("Grüße\n");
        let raw = String::from_utf8(build_message(&from, &hello, &l).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <") && raw.contains("@auth.example.com>"));
        assert!(
            raw.contains("quoted-printable") || raw.contains("base64"),
            "{raw}"
        );
        for bad in ["not-an-address", "a@b@c", ""] {
            let e = build_message(&from, &hello, &letter(bad)).unwrap_err();
            assert!(matches!(e, SendError::Permanent(_)), "{bad}: {e:?}");
        }
    }

    #[test]
    fn bodies_stay_7bit_up_to_998_octets_a_line() {
        let long = format!("{}\n", "a".repeat(998));
        assert_eq!(body(&long).encoding(), ContentTransferEncoding::SevenBit);
        assert_eq!(
            body("x\ny\n").into_vec(),
            b"x\r\ny\r\n".to_vec(),
            "CRLF line ends"
        );
        let too_long = "a".repeat(999);
        assert_ne!(
            body(&too_long).encoding(),
            ContentTransferEncoding::SevenBit
        );
        assert_ne!(body("Grüße").encoding(), ContentTransferEncoding::SevenBit);
    }

    #[test]
    fn hello_name_comes_from_the_public_url() {
        assert_eq!(
            hello_name("https://auth.example.com"),
            ClientId::Domain("auth.example.com".into())
        );
        assert_eq!(
            hello_name("http://127.0.0.1:8080"),
            ClientId::Ipv4([127, 0, 0, 1].into())
        );
        assert_eq!(
            hello_name("http://[::1]:8080/x"),
            ClientId::Ipv6(std::net::Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            hello_name("https://id.example.com:8443/base"),
            ClientId::Domain("id.example.com".into())
        );
    }

    #[test]
    fn a_bad_from_is_a_start_up_error() {
        let config = Config::from_sources(Some("[email]\nfrom = \"a b c @\"\n"), []).unwrap();
        let e = Transport::from_config(&config).unwrap_err().to_string();
        assert!(e.starts_with("email.from: "), "{e}");
    }

    #[test]
    fn debug_of_a_letter_shows_no_link() {
        let l = letter("ann@example.com");
        assert!(!format!("{l:?}").contains("token="));
    }
}
