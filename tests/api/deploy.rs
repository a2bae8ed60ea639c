//! Deployment: the binary under a (fake) systemd, and the files
//! `packaging/` ships kept in step with the code.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the server if a test fails halfway.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over a plain socket: the status line.
fn http_status(port: u16, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or("").to_owned()
}

/// `Type=notify`: with `$NOTIFY_SOCKET` set, `toktok serve` sends READY=1
/// once the database is open and the port answers, and STOPPING=1 when
/// SIGTERM starts the drain; then it exits 0.
#[test]
fn serve_tells_systemd_ready_then_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let port = free_port();
    let config = dir.path().join("toktok.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n{}\
             [password]\npbkdf2_iterations = 1000\n[email]\nmode = \"off\"\n\
             [metrics]\nlisten = \"127.0.0.1:0\"\n",
            crate::helpers::database_toml(dir.path())
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_remove("TOKTOK_CONFIG")
        .env("NOTIFY_SOCKET", &socket_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let said = || std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();

    let mut buf = [0u8; 512];
    let n = socket
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no READY=1 within 60 s ({e}); toktok said:\n{}", said()));
    assert_eq!(&buf[..n], b"READY=1\n");
    // Ready means ready: the database exists and the server answers.
    if crate::helpers::postgres_server().is_none() {
        assert!(dir.path().join("toktok.db").exists());
    }
    assert!(http_status(port, "/ready").contains(" 200 "));

    let pid = server.0.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let n = socket.recv(&mut buf).expect("STOPPING=1 after SIGTERM");
    assert_eq!(&buf[..n], b"STOPPING=1\n");
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The Debian package's /etc/toktok/toktok.toml is exactly what
/// `toktok init --data-dir /var/lib/toktok` writes, so it never drifts
/// from the commented template (toktok.toml).
#[test]
fn the_packaged_config_is_what_init_writes_for_var_lib_toktok() {
    let shipped = repo_file("packaging/debian/toktok.toml");
    let rendered =
        toktok::cli::render_config(std::path::Path::new("/var/lib/toktok"), None).unwrap();
    assert_eq!(
        shipped, rendered,
        "regenerate with: toktok init --dir <tmp> --data-dir /var/lib/toktok"
    );
    let config = toktok::Config::from_sources(Some(&shipped), std::iter::empty()).unwrap();
    assert_eq!(
        config.database.path,
        std::path::Path::new("/var/lib/toktok/toktok.db")
    );
}

/// The unit, the package and the config agree on paths.
#[test]
fn unit_package_and_config_name_the_same_paths() {
    let unit = repo_file("packaging/systemd/toktok.service");
    let manifest = repo_file("Cargo.toml");
    assert!(unit.contains("\nType=notify\n"));
    assert!(unit.contains("ExecStart=/usr/bin/toktok --config /etc/toktok/toktok.toml serve"));
    assert!(unit.contains("\nStateDirectory=toktok\n"));
    assert!(unit.contains("\nUser=toktok\n"));
    assert!(manifest.contains(r#"["target/release/toktok", "usr/bin/", "755"]"#));
    assert!(
        manifest.contains(r#"["packaging/debian/toktok.toml", "etc/toktok/toktok.toml", "644"]"#)
    );
    let postinst = repo_file("packaging/debian/postinst");
    assert!(postinst.contains("adduser --system"));
}
