//! TLS to PostgreSQL, chosen by libpq's `sslmode` and `sslrootcert` in
//! `database.url` (docs/scaling-out.md).
//!
//! tokio-postgres's parser knows only `sslmode=disable|prefer|require` and
//! rejects `sslrootcert`, so [`split`] takes both parameters off the
//! connection string (URL or key=value form) before the rest is parsed.
//!
//! toktok is stricter than libpq on purpose: every mode that asks for TLS
//! (`require`, `verify-ca`, `verify-full`) verifies the server's certificate
//! chain *and* its host name. An unverified TLS connection protects against
//! a passive eavesdropper only: an active attacker in the middle answers the
//! handshake himself and sees the password exchange and every row. rustls
//! always checks the name, so `verify-ca` is `verify-full`. The modes that
//! leave TLS optional (`allow`, `prefer`) connect in plain text, as when
//! `sslmode` is absent: "TLS if the server happens to offer it" gives no
//! guarantee an operator could rely on.

use std::sync::Arc;

use anyhow::{bail, Context as _};
use postgres::config::{Host, SslMode};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What the connection string asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsParams {
    /// `sslmode`, as given (absent: plain).
    pub mode: Option<String>,
    /// `sslrootcert`, as given (a PEM file, or `system`).
    pub root_cert: Option<String>,
}

/// Whether the connection is encrypted, and against which roots the server
/// is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// Plain TCP (or a Unix socket): `sslmode` absent, `disable`, `allow`
    /// or `prefer`.
    Plain,
    /// TLS or no connection, the server's certificate verified against
    /// these roots and its name checked.
    Verified(Roots),
}

/// The trust anchors for the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// webpki-roots (Mozilla's list, compiled in): no `sslrootcert`, or
    /// `sslrootcert=system`.
    Public,
    /// The certificates of this PEM file.
    File(String),
}

impl TlsParams {
    /// Decides the mode; an unknown `sslmode` value is an error.
    pub fn tls(&self) -> anyhow::Result<Tls> {
        let verified = match self.mode.as_deref() {
            None | Some("disable" | "allow" | "prefer") => false,
            Some("require" | "verify-ca" | "verify-full") => true,
            Some(other) => bail!(
                "database.url: sslmode={other:?} is not one of disable, allow, prefer, require, \
                 verify-ca, verify-full"
            ),
        };
        if !verified {
            return Ok(Tls::Plain);
        }
        Ok(Tls::Verified(match self.root_cert.as_deref() {
            None | Some("system") => Roots::Public,
            Some("") => bail!("database.url: sslrootcert is empty; give the CA's PEM file"),
            Some(path) => Roots::File(path.to_owned()),
        }))
    }
}

impl Tls {
    /// Applies the mode to `config` (ssl_mode `Disable` for plain, so a
    /// server with TLS on is still spoken to in plain text, `Require`
    /// otherwise) and builds the connector every connection uses. Refuses
    /// TLS towards a Unix socket, where it means nothing.
    pub fn apply(&self, config: &mut postgres::Config) -> anyhow::Result<MakeRustlsConnect> {
        let roots = match self {
            Tls::Plain => {
                config.ssl_mode(SslMode::Disable);
                // Never used (ssl_mode Disable never asks it to connect);
                // were it used, it would trust nobody.
                return connector(RootCertStore::empty());
            }
            Tls::Verified(roots) => roots,
        };
        #[cfg(unix)]
        if let Some(Host::Unix(path)) = config
            .get_hosts()
            .iter()
            .find(|h| matches!(h, Host::Unix(_)))
        {
            bail!(
                "database.url: TLS (sslmode=require/verify-ca/verify-full) cannot be used with \
                 the Unix socket {}: a local socket needs no encryption; drop sslmode or \
                 connect over TCP",
                path.display()
            );
        }
        if config
            .get_hosts()
            .iter()
            .all(|h| !matches!(h, Host::Tcp(_)))
        {
            bail!("database.url: TLS needs a host name to verify the server's certificate against");
        }
        config.ssl_mode(SslMode::Require);
        connector(match roots {
            Roots::Public => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
            Roots::File(path) => load_roots(path)?,
        })
    }

    /// The roots, for messages.
    fn describe(&self) -> String {
        match self {
            Tls::Plain => "plain".to_owned(),
            Tls::Verified(Roots::Public) => "the public roots of webpki-roots".to_owned(),
            Tls::Verified(Roots::File(path)) => format!("sslrootcert {path}"),
        }
    }
}

/// A connector on rustls with ring (the crypto provider lettre already
/// uses), TLS 1.2 and 1.3, no client certificate.
fn connector(roots: RootCertStore) -> anyhow::Result<MakeRustlsConnect> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("rustls on ring refused TLS 1.2 and 1.3")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Reads the CA certificates of the PEM file `path`; every failure names
/// the file.
fn load_roots(path: &str) -> anyhow::Result<RootCertStore> {
    let pem = std::fs::read(path).with_context(|| format!("sslrootcert {path}: cannot read it"))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert =
            cert.map_err(|e| anyhow::anyhow!("sslrootcert {path}: not a valid PEM file: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| anyhow::anyhow!("sslrootcert {path}: a certificate is unusable: {e}"))?;
    }
    if roots.is_empty() {
        bail!(
            "sslrootcert {path}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)"
        );
    }
    Ok(roots)
}

/// Explains a failed connection in words an operator can act on, when the
/// cause is TLS; `None` for other causes. The server's messages and
/// rustls's never carry the password.
pub fn explain(e: &postgres::Error, tls: &Tls, host: &str) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(r) = rustls_error(err) {
            return Some(match r {
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
                    "the server's certificate is not signed by a CA toktok trusts ({}): give \
                     sslrootcert=/path/to/ca.pem with the CA that signed it",
                    tls.describe()
                ),
                rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                ) => format!(
                    "the server's certificate is not valid for the host name {host:?}: connect \
                     with a name the certificate lists (its subjectAltName), or reissue it \
                     for {host:?}"
                ),
                rustls::Error::InvalidCertificate(
                    CertificateError::Expired | CertificateError::ExpiredContext { .. },
                ) => "the server's certificate has expired: renew it on the server".to_owned(),
                rustls::Error::InvalidCertificate(
                    CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
                ) => "the server's certificate is not valid yet: check both machines' clocks"
                    .to_owned(),
                other => format!("the TLS handshake with the server failed: {other}"),
            });
        }
        let text = err.to_string();
        if text == "server does not support TLS" {
            return Some(
                "the server does not support TLS (ssl = off in postgresql.conf): turn TLS on \
                 there, or connect without sslmode on a network you own"
                    .to_owned(),
            );
        }
        source = err.source();
    }
    None
}

/// The rustls error inside `err`, if that is what it is or wraps (an
/// `io::Error` does not list its payload as a source, so look inside).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(r) = err.downcast_ref::<rustls::Error>() {
        return Some(r);
    }
    err.downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// Takes `sslmode` and `sslrootcert` off a connection string in either of
/// the forms tokio-postgres accepts, returning the rest unchanged for it to
/// parse. A parameter given twice: the last one counts, as in libpq.
pub fn split(url: &str) -> anyhow::Result<(String, TlsParams)> {
    let is_url = ["postgres://", "postgresql://"]
        .iter()
        .any(|p| url.starts_with(p));
    if is_url {
        split_url(url)
    } else {
        split_key_values(url)
    }
}

fn take(params: &mut TlsParams, key: &str, value: String) -> bool {
    match key {
        "sslmode" => params.mode = Some(value),
        "sslrootcert" => params.root_cert = Some(value),
        _ => return false,
    }
    true
}

/// `postgres://user:pw@host/db?k=v&…`: the query starts at the first `?`
/// after the credentials (tokio-postgres reads them up to the first `@`, so
/// a password may hold a `?`).
fn split_url(url: &str) -> anyhow::Result<(String, TlsParams)> {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let after_credentials = url[scheme_end..]
        .find('@')
        .map_or(scheme_end, |i| scheme_end + i + 1);
    let Some(q) = url[after_credentials..]
        .find('?')
        .map(|i| after_credentials + i)
    else {
        return Ok((url.to_owned(), TlsParams::default()));
    };
    let mut params = TlsParams::default();
    let mut kept = Vec::new();
    for pair in url[q + 1..].split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key)?;
        if !take(&mut params, &key, percent_decode(value)?) {
            kept.push(pair);
        }
    }
    let mut rest = url[..q].to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, params))
}

/// Decodes `%XX` escapes (and nothing else, as tokio-postgres does).
fn percent_decode(s: &str) -> anyhow::Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .context("database.url: a %-escape in the query is not two hex digits")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("database.url: a %-escaped query parameter is not UTF-8")
}

/// `host=… user=… sslmode=verify-full sslrootcert='/a b/ca.pem'`: the
/// grammar of tokio-postgres's parser (whitespace around `=` allowed,
/// values bare or single-quoted, backslash escapes).
fn split_key_values(s: &str) -> anyhow::Result<(String, TlsParams)> {
    let b = s.as_bytes();
    let mut params = TlsParams::default();
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    let skip_ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    loop {
        i = skip_ws(i);
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        let key = &s[start..i];
        i = skip_ws(i);
        if b.get(i) != Some(&b'=') {
            // Not ours to judge: tokio-postgres reports the syntax error.
            return Ok((s.to_owned(), params));
        }
        i = skip_ws(i + 1);
        let mut value = Vec::new();
        if b.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match b.get(i) {
                    None => return Ok((s.to_owned(), params)),
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < b.len() => {
                        value.push(b[i + 1]);
                        i += 2;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                value.push(b[i]);
                i += 1;
            }
        }
        let value = String::from_utf8(value).context("database.url: a value is not UTF-8")?;
        if !take(&mut params, key, value) {
            kept.push(&s[start..i]);
        }
    }
    Ok((kept.join(" "), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(mode: Option<&str>, root: Option<&str>) -> TlsParams {
        TlsParams {
            mode: mode.map(str::to_owned),
            root_cert: root.map(str::to_owned),
        }
    }

    #[test]
    fn url_form_loses_only_the_tls_parameters() {
        let (rest, p) = split(
            "postgres://u:p@db:5432/toktok?sslmode=verify-full&connect_timeout=5\
             &sslrootcert=%2Fetc%2Fca%20x.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/toktok?connect_timeout=5");
        assert_eq!(p, params(Some("verify-full"), Some("/etc/ca x.pem")));

        let (rest, p) =
            split("postgresql://db/toktok?sslrootcert=/ca.pem&sslmode=require").unwrap();
        assert_eq!(rest, "postgresql://db/toktok");
        assert_eq!(p, params(Some("require"), Some("/ca.pem")));

        let (rest, p) = split("postgres://u@db/x").unwrap();
        assert_eq!(rest, "postgres://u@db/x");
        assert_eq!(p, TlsParams::default());
        // The last of a repeated parameter counts, as in libpq.
        let (_, p) = split("postgres://db/x?sslmode=require&sslmode=disable").unwrap();
        assert_eq!(p.mode.as_deref(), Some("disable"));
    }

    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let (rest, p) = split("postgres://u:pa?ss@db/x?sslmode=verify-full").unwrap();
        assert_eq!(rest, "postgres://u:pa?ss@db/x");
        assert_eq!(p.mode.as_deref(), Some("verify-full"));
    }

    #[test]
    fn key_value_form_loses_only_the_tls_parameters() {
        let (rest, p) =
            split("host=db user=toktok sslmode = verify-ca  sslrootcert='/a b/c\\'a.pem' dbname=x")
                .unwrap();
        assert_eq!(rest, "host=db user=toktok dbname=x");
        assert_eq!(p, params(Some("verify-ca"), Some("/a b/c'a.pem")));
        let (rest, p) = split("host=db sslrootcert=/ca\\ 1.pem").unwrap();
        assert_eq!(rest, "host=db");
        assert_eq!(p.root_cert.as_deref(), Some("/ca 1.pem"));
        // What is left parses.
        let _: postgres::Config = rest.parse().unwrap();
    }

    #[test]
    fn modes_map_to_plain_or_verified() {
        for mode in [None, Some("disable"), Some("allow"), Some("prefer")] {
            assert_eq!(params(mode, None).tls().unwrap(), Tls::Plain, "{mode:?}");
        }
        for mode in ["require", "verify-ca", "verify-full"] {
            assert_eq!(
                params(Some(mode), None).tls().unwrap(),
                Tls::Verified(Roots::Public),
                "{mode}"
            );
            assert_eq!(
                params(Some(mode), Some("system")).tls().unwrap(),
                Tls::Verified(Roots::Public)
            );
            assert_eq!(
                params(Some(mode), Some("/ca.pem")).tls().unwrap(),
                Tls::Verified(Roots::File("/ca.pem".to_owned()))
            );
        }
        let err = params(Some("verify_full"), None).tls().unwrap_err();
        assert!(err.to_string().contains("sslmode=\"verify_full\""), "{err}");
    }

    #[test]
    fn plain_sets_disable_and_verified_sets_require() {
        let mut config: postgres::Config = "postgres://db/x".parse().unwrap();
        Tls::Plain.apply(&mut config).unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Disable);
        Tls::Verified(Roots::Public).apply(&mut config).unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
    }

    #[cfg(unix)]
    #[test]
    fn tls_towards_a_unix_socket_is_refused() {
        let mut config: postgres::Config = "host=/run/postgresql dbname=x".parse().unwrap();
        let err = Tls::Verified(Roots::Public)
            .apply(&mut config)
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("Unix socket /run/postgresql"), "{err}");
        // Plain over the socket is fine.
        Tls::Plain.apply(&mut config).unwrap();
    }

    #[test]
    fn a_bad_root_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        for path in [&missing, &junk] {
            let path = path.to_string_lossy().into_owned();
            let mut config: postgres::Config = "postgres://db/x".parse().unwrap();
            let err = Tls::Verified(Roots::File(path.clone()))
                .apply(&mut config)
                .err()
                .expect("refused");
            let err = format!("{err:#}");
            assert!(err.contains(&format!("sslrootcert {path}")), "{err}");
        }
    }
}
