//! The value types of the configuration and their parsers: [`Secret`],
//! [`IpNet`], durations, URLs, CORS origins and log filters.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use toml::Value;

use crate::domain::algorithm::Algorithm;
use crate::domain::locale::Locale;

use super::{EmailMode, LogFormat, PasswordAlgorithm, SmtpTls};

// ---------------------------------------------------------------------------
// Secret and IpNet
// ---------------------------------------------------------------------------

/// A configured secret (HMAC key, SMTP password). `Debug` and `Display`
/// print `[redacted]` (or `[empty]`), so the value never reaches a log line
/// by accident; call [`Secret::expose`] where it is really used.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub(super) String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Use it; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "[empty]"
        } else {
            "[redacted]"
        })
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An IP network such as `10.0.0.0/8` or `fd00::/8`; a bare address is a
/// network of one. Host bits below the prefix are cleared when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    pub(super) prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this network. An IPv4-mapped IPv6 address
    /// (`::ffff:10.1.2.3`, as a dual-stack socket reports IPv4 peers) is
    /// treated as the IPv4 address it carries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask_v4(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask_v6(self.prefix) == u128::from(net)
            }
            (IpAddr::V6(net), IpAddr::V4(ip)) => {
                u128::from(ip.to_ipv6_mapped()) & mask_v6(self.prefix) == u128::from(net)
            }
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }
}

fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why a text is not an [`IpNet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIpNetError(String);

impl fmt::Display for ParseIpNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected an IP address or network like \"10.0.0.0/8\" or \"fd00::/8\", got \"{}\"",
            self.0
        )
    }
}

impl std::error::Error for ParseIpNetError {}

impl FromStr for IpNet {
    type Err = ParseIpNetError;

    fn from_str(text: &str) -> Result<IpNet, ParseIpNetError> {
        let bad = || ParseIpNetError(text.to_string());
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| bad())?;
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        let addr = match addr {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & mask_v4(prefix)).into()),
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & mask_v6(prefix)).into()),
        };
        Ok(IpNet { addr, prefix })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// A setting spelled as one of a few exact words (`jwt.algorithm`,
/// `email.mode`…): the values in the order messages list them, and each
/// one's spelling, which is the type's own `as_str`.
pub(super) trait Choice: Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
}

impl Choice for Algorithm {
    const ALL: &'static [Self] = &[
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::RS256,
        Algorithm::HS256,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choice for Locale {
    const ALL: &'static [Self] = &Locale::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choice for PasswordAlgorithm {
    const ALL: &'static [Self] = &[PasswordAlgorithm::Pbkdf2Sha256, PasswordAlgorithm::Argon2id];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choice for EmailMode {
    const ALL: &'static [Self] = &[EmailMode::Dev, EmailMode::Smtp, EmailMode::Off];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choice for SmtpTls {
    const ALL: &'static [Self] = &[SmtpTls::None, SmtpTls::Starttls, SmtpTls::Tls];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choice for LogFormat {
    const ALL: &'static [Self] = &[LogFormat::Pretty, LogFormat::Json];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

// ---------------------------------------------------------------------------
// Durations, URLs, log filters
// ---------------------------------------------------------------------------

pub(super) const DAY: u64 = 24 * 3600;

/// Longest accepted duration, 100 years: anything longer is surely a typo,
/// and the cap keeps `now + ttl` arithmetic elsewhere far from overflow.
pub(super) const MAX_DURATION_SECS: u64 = 36_500 * DAY;

/// Why a duration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DurationProblem {
    Malformed,
    TooShort,
    TooLong,
}

impl DurationProblem {
    /// The message, given how the offending value should be shown.
    pub(super) fn explain(self, shown: &str) -> String {
        match self {
            DurationProblem::Malformed => format!(
                "expected a duration like \"90s\", \"15m\", \"30d\" or a number of seconds, got {shown}"
            ),
            DurationProblem::TooShort => format!("must be at least 1 second, got {shown}"),
            DurationProblem::TooLong => format!("must be at most \"36500d\" (100 years), got {shown}"),
        }
    }
}

/// A duration as written: `"15m"` or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawDuration<'a> {
    Seconds(i64),
    Text(&'a str),
}

impl RawDuration<'_> {
    /// `None` for a value that is neither text nor a whole number.
    pub(super) fn from_value(value: &Value) -> Option<RawDuration<'_>> {
        match value {
            Value::Integer(n) => Some(RawDuration::Seconds(*n)),
            Value::String(text) => Some(RawDuration::Text(text)),
            _ => None,
        }
    }

    /// Whether it spells zero (`0`, `"0"`, `"0s"`, `"0m"`…), which only
    /// `jwt.reuse_grace` accepts.
    pub(super) fn is_zero(self) -> bool {
        match self {
            RawDuration::Seconds(n) => n == 0,
            RawDuration::Text(text) => {
                let text = text.trim();
                let digits = text.trim_end_matches(['s', 'm', 'h', 'd']);
                text.len() - digits.len() <= 1
                    && !digits.is_empty()
                    && digits.bytes().all(|b| b == b'0')
            }
        }
    }
}

pub(super) fn duration_from_seconds(seconds: i64) -> Result<Duration, DurationProblem> {
    match u64::try_from(seconds) {
        Ok(0) | Err(_) => Err(DurationProblem::TooShort),
        Ok(n) if n > MAX_DURATION_SECS => Err(DurationProblem::TooLong),
        Ok(n) => Ok(Duration::from_secs(n)),
    }
}

/// Parses `"90s"`, `"15m"`, `"2h"`, `"30d"`, combinations from the largest
/// unit down such as `"1h30m"`, or a bare number of seconds (`"900"`, as an
/// environment variable gives it).
pub(super) fn parse_duration(text: &str) -> Result<Duration, DurationProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationProblem::Malformed);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = text.parse::<u64>().map_err(|_| DurationProblem::TooLong)?;
        return duration_from_seconds(
            i64::try_from(seconds).map_err(|_| DurationProblem::TooLong)?,
        );
    }
    let mut total: u64 = 0;
    let mut rest = text;
    let mut previous_unit: Option<u64> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationProblem::Malformed);
        }
        let (number, tail) = rest.split_at(digits);
        let mut chars = tail.chars();
        let unit: u64 = match chars.next() {
            Some('d') => DAY,
            Some('h') => 3600,
            Some('m') => 60,
            Some('s') => 1,
            _ => return Err(DurationProblem::Malformed),
        };
        // Each unit at most once, largest first: "1m30m" is a typo.
        if previous_unit.is_some_and(|previous| unit >= previous) {
            return Err(DurationProblem::Malformed);
        }
        previous_unit = Some(unit);
        let n = number
            .parse::<u64>()
            .map_err(|_| DurationProblem::TooLong)?;
        total = n
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .ok_or(DurationProblem::TooLong)?;
        rest = chars.as_str();
    }
    match total {
        0 => Err(DurationProblem::TooShort),
        n if n > MAX_DURATION_SECS => Err(DurationProblem::TooLong),
        n => Ok(Duration::from_secs(n)),
    }
}

/// The shortest `"1h30m"`-style spelling of a duration, for messages.
pub(super) fn format_duration(duration: Duration) -> String {
    let mut left = duration.as_secs();
    if left == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, suffix) in [(DAY, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if left >= unit {
            out.push_str(&format!("{}{suffix}", left / unit));
            left %= unit;
        }
    }
    out
}

/// `http://` or `https://`, a non-empty host, no whitespace.
pub(super) fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            !rest.is_empty()
                && !rest.starts_with(['/', '?', '#'])
                && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// The host part of an http(s) URL, without port.
pub(super) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if let Some(bracketed) = authority.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed);
    }
    authority.split(':').next().unwrap_or(authority)
}

pub(super) fn is_local_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A CORS origin, normalised to what browsers send: lowercase, no trailing
/// slash. `None` for anything with a path, a wildcard or odd characters.
pub(super) fn as_origin(text: &str) -> Option<String> {
    let origin = text.trim().to_ascii_lowercase();
    let origin = origin.strip_suffix('/').unwrap_or(&origin);
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']'));
    host_ok.then(|| origin.to_string())
}

pub(super) const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

/// A level or a simple EnvFilter directive list: `info`, `toktok=debug`,
/// `warn,toktok::http=trace`. Deliberately narrow: lowercase targets made of
/// `[a-z0-9_:]`, levels from [`LOG_LEVELS`].
pub(super) fn is_log_filter(text: &str) -> bool {
    let is_target = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
    };
    !text.is_empty()
        && text
            .split(',')
            .all(|directive| match directive.split_once('=') {
                Some((target, level)) => is_target(target) && LOG_LEVELS.contains(&level),
                None => is_target(directive),
            })
}
