//! `SmtpSink`: a small SMTP server inside the test process, on loopback, so
//! mail tests talk real SMTP to real sockets without any outside server.
//!
//! It speaks just enough of RFC 5321 for lettre: EHLO/HELO, MAIL FROM,
//! RCPT TO, DATA (with dot-unstuffing), RSET, NOOP, QUIT; no TLS, no AUTH.
//! A [`Mode`] makes it misbehave on demand — 451 on MAIL, 550 on RCPT, or
//! accept connections and never answer — and [`SmtpSink::stop`] closes it,
//! so "SMTP is down" is a stopped sink and "it is back" a new sink on the
//! same port ([`SmtpSink::start_on`]). Every wait is bounded: a test never
//! hangs on the sink.

#![allow(dead_code)] // each test uses a different part of the sink

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A well-behaved server: every message is accepted.
    Accept,
    /// `451 4.3.0` on MAIL FROM: try again later.
    TempFail,
    /// `550 5.1.1` on RCPT TO: no such user.
    PermFail,
    /// Accepts connections (and reads commands) but never answers.
    Stall,
    /// Like `Accept`, but takes 400 ms to acknowledge a message's data.
    SlowAccept,
}

/// A message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The MAIL FROM address.
    pub from: String,
    /// The RCPT TO addresses.
    pub to: Vec<String>,
    /// The message (headers and body) after dot-unstuffing, CRLF line ends.
    pub data: String,
}

impl ReceivedMail {
    /// A header's value, unfolded; the name is case-insensitive.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = split_head_body(&self.data);
        header_in(head, name)
    }

    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }
}

struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    mode: Mutex<Mode>,
    connections: Mutex<Vec<JoinHandle<()>>>,
    accepted: Mutex<usize>,
}

impl Shared {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }
}

/// The running sink. Dropping it closes the listener and every connection.
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// A sink on a free loopback port.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_on(0).await
    }

    /// A sink on `port` (0: any free one). Retries briefly while the port is
    /// still held by a sink just stopped.
    pub async fn start_on(port: u16) -> SmtpSink {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            let socket = TcpSocket::new_v4().expect("socket");
            socket.set_reuseaddr(true).expect("SO_REUSEADDR");
            let bound = socket
                .bind(([127, 0, 0, 1], port).into())
                .and_then(|()| socket.listen(64));
            match bound {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot bind the SMTP sink to port {port}: {e}"),
            }
        };
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            mode: Mutex::new(Mode::Accept),
            connections: Mutex::new(Vec::new()),
            accepted: Mutex::new(0),
        });
        let accept_shared = shared.clone();
        let acceptor = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                *accept_shared.accepted.lock().unwrap() += 1;
                let conn_shared = accept_shared.clone();
                let handle = tokio::spawn(async move {
                    let _ = session(stream, conn_shared).await;
                });
                accept_shared.connections.lock().unwrap().push(handle);
            }
        });
        SmtpSink {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything received so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        *self.shared.accepted.lock().unwrap()
    }

    /// Polls until at least `n` messages arrived or `timeout` passed, and
    /// returns what arrived (the caller asserts on the count).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Changes how the sink answers from the next command on, on open
    /// connections too.
    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Closes the listener and every connection; the port is free again
    /// when this returns.
    pub async fn stop(mut self) {
        self.shutdown();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.await;
        }
        let connections: Vec<_> = std::mem::take(&mut *self.shared.connections.lock().unwrap());
        for c in connections {
            let _ = c.await;
        }
    }

    fn shutdown(&self) {
        if let Some(acceptor) = &self.acceptor {
            acceptor.abort();
        }
        for c in self.shared.connections.lock().unwrap().iter() {
            c.abort();
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One SMTP session.
async fn session(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if shared.mode() == Mode::Stall {
        return stall().await;
    }
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        if shared.mode() == Mode::Stall {
            return stall().await;
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end_matches(['\r', '\n']);
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            if shared.mode() == Mode::TempFail {
                b"451 4.3.0 Temporary failure, try again later\r\n"
            } else {
                from = Some(address(&command["MAIL FROM:".len()..]));
                to.clear();
                b"250 2.1.0 OK\r\n"
            }
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                b"503 5.5.1 MAIL first\r\n"
            } else if shared.mode() == Mode::PermFail {
                b"550 5.1.1 No such user here\r\n"
            } else {
                to.push(address(&command["RCPT TO:".len()..]));
                b"250 2.1.5 OK\r\n"
            }
        } else if upper == "DATA" {
            if from.is_none() || to.is_empty() {
                b"503 5.5.1 RCPT first\r\n"
            } else {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut lines).await?;
                if shared.mode() == Mode::SlowAccept {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
                shared.messages.lock().unwrap().push(ReceivedMail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 2.0.0 OK queued\r\n"
            }
        } else if upper == "RSET" {
            from = None;
            to.clear();
            b"250 2.0.0 OK\r\n"
        } else if upper.starts_with("NOOP") {
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// Holds the connection open, answering nothing, until the sink stops.
async fn stall() -> std::io::Result<()> {
    std::future::pending::<()>().await;
    Ok(())
}

/// `<a@b> SIZE=12` → `a@b`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    let inner = match (arg.find('<'), arg.find('>')) {
        (Some(open), Some(close)) if open < close => &arg[open + 1..close],
        _ => arg.split_whitespace().next().unwrap_or(""),
    };
    inner.to_owned()
}

/// The DATA section up to the lone `.`, dot-unstuffed.
async fn read_data(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let text = String::from_utf8_lossy(&line);
        let bare = text.trim_end_matches(['\r', '\n']);
        if bare == "." {
            return Ok(data);
        }
        let unstuffed = bare.strip_prefix('.').unwrap_or(bare);
        data.push_str(unstuffed);
        data.push_str("\r\n");
    }
}

// ---------------------------------------------------------------------------
// Reading received messages
// ---------------------------------------------------------------------------

fn split_head_body(data: &str) -> (&str, &str) {
    data.split_once("\r\n\r\n")
        .or_else(|| data.split_once("\n\n"))
        .unwrap_or((data, ""))
}

fn header_in(head: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(v) = value.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.trim().eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_owned());
            }
        }
    }
    value
}

/// The decoded text of every leaf part, (content type, text), in order.
pub fn parts(mail: &ReceivedMail) -> Vec<(String, String)> {
    let mut out = Vec::new();
    collect_parts(&mail.data, &mut out);
    out
}

fn collect_parts(entity: &str, out: &mut Vec<(String, String)>) {
    let (head, body) = split_head_body(entity);
    let content_type = header_in(head, "Content-Type").unwrap_or_else(|| "text/plain".into());
    if content_type.to_ascii_lowercase().starts_with("multipart/") {
        let Some(boundary) = param(&content_type, "boundary") else {
            return;
        };
        let delimiter = format!("--{boundary}");
        for chunk in body.split(&delimiter).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix("\r\n").unwrap_or(chunk);
            collect_parts(chunk, out);
        }
        return;
    }
    let encoding = header_in(head, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let text = match encoding.as_str() {
        "quoted-printable" => decode_qp(body),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_owned(),
    };
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    out.push((kind, text));
}

fn param(header: &str, name: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn decode_qp(body: &str) -> String {
    let mut bytes = Vec::new();
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let raw = joined.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'=' && i + 2 < raw.len() {
            let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                bytes.push(b);
                i += 3;
                continue;
            }
        }
        bytes.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The first link with a `token=` in the message (text part first, then
/// HTML), decoded from whatever transfer encoding it was sent in.
pub fn link_in(mail: &ReceivedMail) -> Option<String> {
    let mut parts = parts(mail);
    // Plain text first: its links are not HTML-escaped.
    parts.sort_by_key(|(kind, _)| kind != "text/plain");
    parts.iter().find_map(|(kind, text)| {
        let link = first_link(text)?;
        Some(if kind == "text/html" {
            link.replace("&amp;", "&")
        } else {
            link
        })
    })
}

fn first_link(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find("http") {
        let candidate = &rest[start..];
        if candidate.starts_with("http://") || candidate.starts_with("https://") {
            let end = candidate
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\''))
                .unwrap_or(candidate.len());
            let link = &candidate[..end];
            if link.contains("token=") {
                return Some(link.to_owned());
            }
        }
        rest = &rest[start + 4..];
    }
    None
}

/// The token of a link (`…?token=X`).
pub fn token_of(link: &str) -> String {
    link.split_once("token=")
        .map(|(_, t)| t.split('&').next().unwrap_or(t).to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://auth.example.test/v1/auth/password/reset?token=AbC-_123";

    fn mail(data: &str) -> ReceivedMail {
        ReceivedMail {
            from: "a@x".into(),
            to: vec!["b@x".into()],
            data: data.replace('\n', "\r\n"),
        }
    }

    #[test]
    fn link_in_reads_7bit_quoted_printable_and_base64() {
        let plain = mail(&format!(
            "Subject: Hi\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\nopen\n{LINK}\nbye\n"
        ));
        assert_eq!(link_in(&plain).as_deref(), Some(LINK));
        assert_eq!(plain.subject().as_deref(), Some("Hi"));

        // In quoted-printable "=" itself is written "=3D".
        let qp_link = LINK.replace('=', "=3D");
        let (a, b) = qp_link.split_at(30);
        let qp = mail(&format!(
            "Content-Type: multipart/alternative; boundary=\"XyZ\"\n\n--XyZ\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nGr=C3=BC=C3=9Fe {a}=\n{b}\n--XyZ\nContent-Type: text/html\n\n<a href=\"x\">x</a>\n--XyZ--\n"
        ));
        assert_eq!(link_in(&qp).as_deref(), Some(LINK));
        assert!(parts(&qp)[0].1.starts_with("Grüße"));

        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("<p><a href=\"{LINK}&amp;x=1\">go</a></p>"));
        let b64 = mail(&format!(
            "Content-Type: multipart/alternative; boundary=b1\n\n--b1\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{}\n{}\n--b1--\n",
            &encoded[..40],
            &encoded[40..]
        ));
        assert_eq!(link_in(&b64), Some(format!("{LINK}&x=1")));
        assert_eq!(token_of(LINK), "AbC-_123");
        assert_eq!(
            link_in(&mail("Subject: x\n\nno link here http://a.b/c\n")),
            None
        );
    }

    #[test]
    fn folded_headers_unfold() {
        let m = mail("Subject: a long\n subject line\nTo: b@x\n\nbody\n");
        assert_eq!(m.subject().as_deref(), Some("a long subject line"));
        assert_eq!(m.header("to").as_deref(), Some("b@x"));
        assert_eq!(address(" <ann@example.com> SIZE=100"), "ann@example.com");
    }

    /// Reads one (possibly multi-line) reply and checks its code.
    async fn expect(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, prefix: &str) {
        let mut line = String::new();
        loop {
            line.clear();
            read.read_line(&mut line).await.unwrap();
            assert!(
                line.starts_with(prefix),
                "{line:?} should start with {prefix}"
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
    }

    #[tokio::test]
    async fn the_sink_speaks_smtp_and_unstuffs_dots() {
        let sink = SmtpSink::start().await;
        let stream = TcpStream::connect(("127.0.0.1", sink.port()))
            .await
            .unwrap();
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        expect(&mut read, "220").await;
        for (cmd, want) in [
            ("EHLO me", "250"),
            ("NOOP", "250"),
            ("RCPT TO:<x@y>", "503"),
            ("MAIL FROM:<a@x>", "250"),
            ("RCPT TO:<b@x>", "250"),
            ("DATA", "354"),
        ] {
            write
                .write_all(format!("{cmd}\r\n").as_bytes())
                .await
                .unwrap();
            expect(&mut read, want).await;
        }
        write
            .write_all(b"Subject: dots\r\n\r\n..leading dot\r\n.\r\n")
            .await
            .unwrap();
        expect(&mut read, "250").await;
        write.write_all(b"QUIT\r\n").await.unwrap();
        expect(&mut read, "221").await;
        let got = sink.wait_for(1, Duration::from_secs(2)).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].to, ["b@x"]);
        assert_eq!(got[0].data, "Subject: dots\r\n\r\n.leading dot\r\n");
        sink.stop().await;
    }
}
