#!/usr/bin/env python3
"""Fault injection for toktok (issue 9 "Faults"; docs/SECURITY.md D3, D4).

`faults.py net`: hostile connections against the real binary —
  slowloris (headers one byte a second), 10,000 idle connections, an
  oversized head, conflicting Content-Length / Transfer-Encoding (request
  smuggling) — checking that other clients are still served, that the
  server's memory stays bounded, and that a smuggled request is never run.

`faults.py disk`: disk full. Runs toktok with its database on a small tmpfs
  (needs root, for `mount`; skipped with a message otherwise), fills the
  disk, and checks: writes answer 503 `storage_unavailable` (never 500),
  reads keep working, `PRAGMA integrity_check` stays ok, and writes succeed
  again once space returns — without a restart.

Prints one summary line per scenario; exits 1 when a check fails. A known,
reported but not yet fixed defect is printed as KNOWN DEFECT and fails only
with --strict (see the never-sending connections in `net`).
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relcommon import Client, Server, find_binary  # noqa: E402

failures: list[str] = []
known: list[str] = []
STRICT = False


def check(cond: bool, what: str) -> None:
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr, flush=True)


def served(port: int, timeout: float = 5.0) -> float | None:
    """Seconds a fresh client needs for GET /health, or None if not served.
    It connects from 127.0.0.2: the attacks below come from 127.0.0.1, and
    toktok caps the connections of one address (server.max_connections_per_ip,
    100), so a bystander is another address, as it would be on a network."""
    t0 = time.monotonic()
    try:
        status, _ = Client(port, timeout=timeout, source="127.0.0.2").call("GET", "/health")
    except OSError:
        return None
    return time.monotonic() - t0 if status == 200 else None


def raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends `data` on a fresh connection and reads until the server closes
    it (or `timeout`)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


def net(binary: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = Path(tempfile.mkdtemp(prefix="toktok-faults-"))
    server = Server(binary, work)
    server.start()
    port = server.port
    rss0 = server.rss_kib()
    notes = []

    # 1. Slowloris: 300 clients trickling a header byte a second.
    loris = []
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        loris.append(s)
    t0 = time.monotonic()
    worst = 0.0
    closed_at = None
    while time.monotonic() - t0 < 12:
        for s in loris:
            try:
                s.sendall(b"X")
            except OSError:
                pass
        lat = served(port)
        check(lat is not None, "a normal client was not served during slowloris")
        worst = max(worst, lat or 0)
        time.sleep(1)
    # After HEADER_READ_TIMEOUT (10 s) the server has dropped them.
    dropped = 0
    for s in loris:
        s.settimeout(0.5)
        try:
            s.sendall(b"X")
            data = s.recv(4096)
            if data == b"" or data.startswith(b"HTTP/1.1 408"):
                dropped += 1
        except OSError:
            dropped += 1
        s.close()
    check(dropped == len(loris), f"only {dropped}/{len(loris)} slowloris connections dropped after 12 s")
    notes.append(f"slowloris=300 dropped={dropped} worst_other_client_ms={worst * 1000:.0f}")

    # 2a. Keep-alive connections left idle after a request: closed.
    kept = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(4096)
        kept.append(s)

    # 2b. 10,000 connections that never send a byte (the process-wide
    # connection cap), 100 from each of 100 loopback addresses so that the
    # per-address cap does not refuse them first.
    idle = []
    try:
        for i in range(10_000):
            s = socket.socket()
            s.bind((f"127.1.{i // 100 // 250}.{(i // 100) % 250 + 1}", 0))
            s.connect(("127.0.0.1", port))
            idle.append(s)
    except OSError as e:
        notes.append(f"idle connections stopped at {len(idle)}: {e}")
    time.sleep(1)
    rss_idle = server.rss_kib()
    t0 = time.monotonic()
    lat = served(port, timeout=12)
    waited = time.monotonic() - t0
    time.sleep(max(0.0, 11.5 - waited))

    def still_open(socks: list) -> int:
        n = 0
        for s in socks:
            s.setblocking(False)  # no wait per socket: 10,000 of them
            try:
                if s.recv(1) != b"":
                    n += 1
            except BlockingIOError:
                n += 1  # nothing to read and not closed: still open
            except OSError:
                pass
            s.close()
        return n

    kept_open = still_open(kept)
    check(kept_open == 0, f"{kept_open}/50 idle keep-alive connections still open after 12 s")
    open_left = still_open(idle)
    # Found here, fixed in src/server.rs: hyper-util's auto (h1/h2) builder
    # has no timer while it detects the protocol, so a connection that never
    # sent a byte was never closed and 10,000 of them held every slot. The
    # server now waits at most HEADER_READ_TIMEOUT for the first byte.
    # (--strict makes this a failure; tests/reliability/run.sh passes it.)
    silent_ok = lat is not None and waited < 12 and open_left == 0
    if not silent_ok:
        what = (f"{open_left}/{len(idle)} never-sending connections still open after 12 s; "
                f"a new client {'was not served' if lat is None else f'waited {waited:.1f} s'}")
        if STRICT:
            check(False, what)
        else:
            known.append(what)
    notes.append(
        f"keepalive_idle_open_after_12s={kept_open}/50 silent={len(idle)} rss_with_silent={rss_idle}KiB "
        f"new_client_waited_ms={waited * 1000:.0f} silent_open_after_12s={open_left}"
    )
    # Let the server notice the closed sockets before the next scenario.
    time.sleep(1)
    check(served(port) is not None, "not served after the idle connections closed")

    # 3. Oversized head: 431 (or a closed connection), the server fine.
    answer = raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"y" * (100 * 1024) + b"\r\n\r\n")
    check(answer == b"" or answer.startswith(b"HTTP/1.1 431"), f"oversized head answered {answer[:40]!r}")
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
    answer2 = raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    check(not answer2.startswith(b"HTTP/1.1 200"), f"5000 headers answered {answer2[:40]!r}")
    check(served(port) is not None, "not served after oversized heads")
    notes.append(f"oversized_head={answer[:12].decode(errors='replace') or 'closed'} "
                 f"5000_headers={answer2[:12].decode(errors='replace') or 'closed'}")

    # 4. Smuggling: Content-Length with Transfer-Encoding, duplicate lengths.
    smuggled = b"GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + smuggled
    cases = {
        "cl+te": b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body) + body,
        "te+cl": b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + body,
        "cl,cl": b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + smuggled,
        "te-obfuscated": b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: xchunked\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
        "te-identity": b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked, identity\r\n\r\n" + body,
    }
    outcome = []
    for name, data in cases.items():
        answer = raw(port, data)
        statuses = [line.split()[1].decode() for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
        # The smuggled GET would be a 404 on an unknown path after the first answer.
        check(len(statuses) <= 1, f"{name}: more than one answer on one connection: {statuses}")
        check(all(not s.startswith("5") for s in statuses), f"{name}: {statuses}")
        outcome.append(f"{name}={'/'.join(statuses) or 'closed'}")
    notes.append("smuggling " + " ".join(outcome))
    check(served(port) is not None, "not served after smuggling attempts")

    rss1 = server.rss_kib()
    check(rss1 < rss0 + 256 * 1024, f"RSS {rss0} -> {rss1} KiB")
    alive = server.proc.poll() is None
    check(alive, "the server died")
    server.stop()
    shutil.rmtree(work, ignore_errors=True)
    print(f"faults net: rss_start={rss0}KiB rss_end={rss1}KiB " + " ".join(notes), flush=True)
    for what in known:
        print(f"faults net: KNOWN DEFECT (not failed; --strict fails it): {what}", flush=True)


def disk(binary: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="toktok-disk-"))
    mnt = work / "mnt"
    mnt.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"faults disk: skipped (cannot mount a tmpfs here: {e}); run as root to try disk full")
        shutil.rmtree(work, ignore_errors=True)
        return
    server = Server(binary, work)
    server.db = mnt / "toktok.db"
    server.write_config(server.port)
    try:
        server.start()
        c = Client(server.port)
        pw = "pw-" + secrets.token_hex(10)
        status, tokens = c.call("POST", "/v1/auth/register", {"email": "before@disk.test", "password": pw})
        check(status == 201, f"register before the disk filled: {status}")
        access = tokens["access_token"]
        # Fill the disk.
        filler = mnt / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        codes: dict[str, int] = {}
        for i in range(60):
            meta = {"pad": "x" * 8000}
            status, body = c.call("POST", "/v1/auth/register",
                                  {"email": f"full{i}@disk.test", "password": pw, "metadata": meta})
            key = f"{status}:{body.get('code') if isinstance(body, dict) else ''}"
            codes[key] = codes.get(key, 0) + 1
        check(not any(k.startswith("5") and k != "503:storage_unavailable" for k in codes),
              f"writes on a full disk: {codes}")
        check("503:storage_unavailable" in codes, f"no 503 storage_unavailable on a full disk: {codes}")
        # Reads keep working.
        for path in ["/health", "/.well-known/jwks.json", "/v1/settings"]:
            status, _ = c.call("GET", path)
            check(status == 200, f"GET {path} on a full disk: {status}")
        status, _ = c.call("GET", "/v1/users/me", token=access)
        check(status == 200, f"GET /v1/users/me on a full disk: {status}")
        status, body = c.call("GET", "/ready")
        ready_full = status
        # Space returns: writes work again without a restart.
        filler.unlink()
        time.sleep(0.2)
        status, body = c.call("POST", "/v1/auth/register", {"email": "after@disk.test", "password": pw})
        check(status == 201, f"register after space returned: {status} {body}")
        status, body = c.call("POST", "/v1/auth/login", {"email": "before@disk.test", "password": pw})
        check(status == 200, f"login after space returned: {status}")
        server.stop()
        conn = sqlite3.connect(server.db)
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        emails = {r[0] for r in conn.execute("SELECT email FROM users")}
        conn.close()
        check(result == "ok", f"integrity_check after disk full: {result}")
        check({"before@disk.test", "after@disk.test"} <= emails, f"users after disk full: {emails}")
        print(f"faults disk: writes_on_full_disk={codes} ready_while_full={ready_full} integrity={result} "
              f"recovered={'after@disk.test' in emails}")
    finally:
        server.kill()
        subprocess.run(["umount", str(mnt)], check=False)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=["net", "disk", "all"])
    ap.add_argument("--bin")
    ap.add_argument("--strict", action="store_true", help="fail on known, unfixed defects too")
    args = ap.parse_args()
    global STRICT
    STRICT = args.strict
    binary = find_binary(args.bin)
    if args.scenario in ("net", "all"):
        net(binary)
    if args.scenario in ("disk", "all"):
        disk(binary)
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
