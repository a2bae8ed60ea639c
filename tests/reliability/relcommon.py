"""Shared helpers for the reliability scripts (crash.py, soak.py, faults.py).

Python 3.11 standard library only. Runs the real `toktok` binary as a child
process on a private directory: one TOML config, one SQLite file, dev-mode
mail written as .eml files. Nothing here downloads anything.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
from pathlib import Path

# Cheap hashing so the harness measures toktok, not PBKDF2 (1000 is the
# lowest the config accepts; production uses 600,000).
ITERATIONS = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(explicit: str | None) -> Path:
    """The toktok binary: --bin, $TOKTOK_BIN, or target/{release,debug}."""
    if explicit:
        return Path(explicit)
    if os.environ.get("TOKTOK_BIN"):
        return Path(os.environ["TOKTOK_BIN"])
    root = Path(__file__).resolve().parents[2]
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    for profile in ("release", "debug"):
        candidate = target / profile / "toktok"
        if candidate.exists():
            return candidate
    raise SystemExit("no toktok binary: build it (cargo build) or pass --bin")


class Server:
    """One toktok process on `dir`, restartable on the same database."""

    def __init__(self, binary: Path, dir: Path, extra: str = ""):
        self.binary = binary
        self.dir = dir
        self.extra = extra
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.config = dir / "toktok.toml"
        self.db = dir / "toktok.db"
        self.outbox = dir / "outbox"
        self.log = open(dir / "server.log", "ab")
        self.write_config(free_port())

    def write_config(self, port: int) -> None:
        self.port = port
        self.config.write_text(
            f"""[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
[database]
path = "{self.db}"
[password]
pbkdf2_iterations = {ITERATIONS}
[rate_limit]
enabled = false
[email]
mode = "dev"
outbox_dir = "{self.outbox}"
[log]
level = "warn"
[metrics]
listen = "127.0.0.1:0"
{self.extra}"""
        )

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [str(self.binary), "--config", str(self.config), *args],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def start(self, timeout: float = 60.0) -> None:
        # A fresh port each start: the old one may linger in TIME_WAIT.
        self.write_config(free_port())
        self.proc = subprocess.Popen(
            [str(self.binary), "--config", str(self.config), "serve"],
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"toktok exited with {self.proc.returncode}; see {self.dir}/server.log")
            try:
                status, _ = Client(self.port, timeout=2).call("GET", "/ready")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("toktok did not become ready")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL
        if self.proc:
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_kib(self) -> int:
        assert self.proc
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


class Client:
    """A keep-alive HTTP/1.1 JSON client; reconnects after an error."""

    def __init__(self, port: int, timeout: float = 30, source: str | None = None):
        self.port = port
        self.timeout = timeout
        # The loopback address to connect from (any of 127.0.0.0/8): a
        # client apart from the others in toktok's per-address limits.
        self.source = (source, 0) if source else None
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body=None, token: str | None = None, raw: bytes | None = None,
             headers: dict | None = None):
        """(status, parsed JSON or None). Raises OSError/HTTPException when
        the server is gone: the caller decides what an unanswered request means."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout,
                                                   source_address=self.source)
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            res = self.conn.getresponse()
            payload = res.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if res.getheader("connection", "").lower() == "close":
            self.close()
        parsed = None
        if payload:
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = payload
        return res.status, parsed

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
