//! The warnings worth logging at start ([`Config::warnings`]): settings
//! that work but are probably not what a production deployment wants, such
//! as a guessable HS256 secret ([`weak_secret`]).

use crate::domain::algorithm::Algorithm;

use super::values::{is_local_host, url_host};
use super::{Config, EmailMode, PasswordAlgorithm, ServerConfig, SmtpTls};

impl Config {
    /// Non-fatal remarks worth logging at start: settings that work but are
    /// probably not what a production deployment wants.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.public_url_warning());
        out.extend(self.hs256_secret_warning());
        if self.password.algorithm == PasswordAlgorithm::Pbkdf2Sha256
            && self.password.pbkdf2_iterations < 600_000
        {
            out.push(format!(
                "password.pbkdf2_iterations = {} is below the recommended 600000; new password hashes are cheaper to crack",
                self.password.pbkdf2_iterations
            ));
        }
        if self.webauthn.enabled {
            let rp_id = self.webauthn.rp_id(self);
            let bare = rp_id.trim_start_matches('[').trim_end_matches(']');
            // Loopback is the development default (docs/sign-in.md says to
            // open http://localhost:<port> to try passkeys); elsewhere an
            // address is a deployment whose passkeys can never work.
            if bare
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| !ip.is_loopback())
            {
                out.push(format!(
                    "webauthn.rp_id is the IP address {rp_id}: browsers run passkey ceremonies only on a host name; set server.public_url (or webauthn.rp_id) to one"
                ));
            }
        }
        if !self.jwt.secret.is_empty() && self.jwt.algorithm != Algorithm::HS256 {
            out.push(format!(
                "jwt.secret is set but jwt.algorithm is {}; the secret is ignored",
                self.jwt.algorithm.as_str()
            ));
        }
        if self.email.mode == EmailMode::Smtp
            && self.smtp.tls == SmtpTls::None
            && !self.smtp.password.is_empty()
            && !is_local_host(&self.smtp.host)
        {
            out.push(format!(
                "smtp.tls = \"none\": the SMTP password is sent to {} unencrypted",
                self.smtp.host
            ));
        }
        if let Some(all) = self
            .server
            .trusted_proxies
            .iter()
            .find(|net| net.prefix == 0)
        {
            out.push(format!(
                "server.trusted_proxies contains {all}, which trusts every address: any client can set X-Forwarded-For and pick its own rate-limit bucket; list only your proxies' addresses"
            ));
        }
        if let Some(addr) = self
            .metrics
            .listen
            .filter(|a| self.metrics.enabled && !a.ip().is_loopback())
        {
            out.push(format!(
                "metrics.listen = \"{addr}\" is not a loopback address: the metrics (which show, for one, whether a password-forgot matched an account) are reachable from the network; firewall the port"
            ));
        }
        if !self.rate_limit.enabled {
            out.push(
                "rate_limit.enabled = false: nothing slows down password guessing".to_string(),
            );
        }
        let host = url_host(&self.server.public_url);
        if !is_local_host(host) {
            if self.server.public_url.starts_with("http://") {
                out.push(format!(
                    "server.public_url {} is plain http:// for a non-local host; tokens cross the network unencrypted",
                    self.server.public_url
                ));
            }
            if self.email.mode == EmailMode::Dev {
                out.push(format!(
                    "email.mode = \"dev\": mail is written to {} and never sent",
                    self.email.outbox_dir.display()
                ));
            }
        }
        out
    }
}

impl Config {
    /// Only `server.listen` changed: links in mail still name the default
    /// address, which is not where clients reach this server.
    fn public_url_warning(&self) -> Option<String> {
        let default = ServerConfig::default();
        (self.server.public_url == default.public_url && self.server.listen != default.listen).then(
            || {
                format!(
                    "server.public_url is the default {} but server.listen is {}: emailed links \
                     still point at {}; set server.public_url to the URL clients use",
                    default.public_url, self.server.listen, default.public_url
                )
            },
        )
    }

    /// An HS256 secret a person chose rather than a random generator
    /// (TT-13): one captured token is enough to guess it offline.
    fn hs256_secret_warning(&self) -> Option<String> {
        if self.jwt.algorithm != Algorithm::HS256 || self.jwt.secret.is_empty() {
            return None;
        }
        weak_secret(self.jwt.secret.expose()).map(|why| {
            format!(
                "jwt.secret looks guessable ({why}); anyone who guesses it can mint tokens. \
                 Use 32 or more random bytes, e.g. `openssl rand -base64 48` or `toktok init --hs256`"
            )
        })
    }
}

/// Why `secret` looks chosen by a person rather than drawn at random, if it
/// does: few distinct characters, a repeated pattern, characters counting
/// up or down, a common word, or a low estimated entropy (the Shannon
/// entropy of its characters times its length, under 128 bits). Random
/// secrets of 32+ characters (`openssl rand -base64 48`, `-hex 32`, `toktok
/// init --hs256`) pass all of these.
pub fn weak_secret(secret: &str) -> Option<String> {
    let bytes = secret.as_bytes();
    let len = bytes.len();
    if len == 0 {
        return None;
    }
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    if distinct < 10 {
        return Some(format!("only {distinct} distinct characters"));
    }
    if let Some(period) = (1..=len / 2).find(|&p| (p..len).all(|i| bytes[i] == bytes[i - p])) {
        return Some(format!("a {period}-character pattern repeated"));
    }
    let steps = bytes
        .windows(2)
        .filter(|w| w[1].wrapping_sub(w[0]) == 1 || w[0].wrapping_sub(w[1]) == 1)
        .count();
    if steps * 2 >= len {
        return Some("characters counting up or down, like 0123456789abcdef".to_owned());
    }
    let lower = secret.to_ascii_lowercase();
    const WORDS: [&str; 14] = [
        "password",
        "passwd",
        "changeme",
        "secret",
        "letmein",
        "qwerty",
        "admin",
        "example",
        "toktok",
        "default",
        "123456",
        "abcdef",
        "welcome",
        "jwtsecret",
    ];
    if let Some(word) = WORDS.iter().find(|w| lower.contains(*w)) {
        return Some(format!("it contains the word {word:?}"));
    }
    let bits: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len as f64;
            -p * p.log2() * len as f64
        })
        .sum();
    if bits < 128.0 {
        return Some(format!("an estimated {bits:.0} bits of entropy, under 128"));
    }
    None
}
