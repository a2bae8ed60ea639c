#!/usr/bin/env python3
"""Soak test for toktok (issue 9 "Load"; docs/SECURITY.md D4).

Drives the real binary at a steady, mixed, realistic rate for N seconds —
mostly refreshes and profile reads, some logins, registrations, logouts,
challenge create/verify and forgot-password — and checks:

- no errors: every answer is the expected 2xx (a 5xx or an unexpected 4xx
  fails the run);
- RSS flat: VmRSS (from /proc/PID/status) at the end is within
  `--rss-slack` of the value after the warm-up (default: +50% and 16 MiB);
- p99 stable: the p99 latency of the last window is within 3x (+50 ms) of
  the median window's. (Not the first window's: that one runs on an empty
  database and, on a shared CI machine, is often the only quiet one.)

A timeline goes to stderr every `--sample-every` seconds (default: a
tenth of the run, at most 60 s): VmRSS, the database and WAL sizes, the
machine's 1-minute load average, requests, errors and p99 of that slice;
errors are listed with the second they happened. That is what tells a
leak (RSS growing without bound) from SQLite's page cache filling as the
file grows (RSS following the database size, then levelling off), and a
stall of the machine from one of toktok.

Usage: tests/reliability/soak.py [--seconds 600] [--rate 100] [--bin PATH]
Prints one summary line; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relcommon import Client, Server, find_binary  # noqa: E402

THREADS = 8
WINDOWS = 6


def p99(xs: list[float]) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


class Soak:
    def __init__(self, server: Server, api_key: str, seconds: float, rate: float):
        self.server, self.api_key, self.seconds, self.rate = server, api_key, seconds, rate
        self.lock = threading.Lock()
        self.samples: list[tuple[float, float, str]] = []  # (t, latency, op)
        self.errors: list[str] = []
        self.error_times: list[float] = []
        self.start = 0.0

    def worker(self, seed: int) -> None:
        rng = random.Random(seed)
        c = Client(self.server.port)
        users: list[tuple[str, str, list[dict]]] = []  # email, password, sessions
        interval = THREADS / self.rate
        next_at = time.monotonic()
        n = 0
        while time.monotonic() - self.start < self.seconds:
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            n += 1
            op = rng.choices(
                ["register", "login", "refresh", "me", "logout", "challenge", "forgot"],
                [2, 8, 35, 35, 5, 12, 3],
            )[0]
            if not users or (op == "register" and len(users) < 200):
                op = "register"
            t0 = time.monotonic()
            try:
                ok = self.one(c, rng, op, users)
            except Exception as e:  # noqa: BLE001
                ok = f"{e!r}"
            lat = time.monotonic() - t0
            with self.lock:
                self.samples.append((t0 - self.start, lat, op))
                if ok is not True:
                    self.errors.append(f"{op}: {ok}")
                    self.error_times.append(t0 - self.start)

    def one(self, c: Client, rng: random.Random, op: str, users: list) -> bool | str:
        if op == "register":
            addr = f"s{secrets.token_hex(6)}@soak.test"
            pw = "pw-" + secrets.token_hex(10)
            status, body = c.call("POST", "/v1/auth/register", {"email": addr, "password": pw})
            if status != 201:
                return f"{status} {body}"
            users.append((addr, pw, [body]))
            return True
        addr, pw, sessions = rng.choice(users)
        if op == "login" or not sessions:
            status, body = c.call("POST", "/v1/auth/login", {"email": addr, "password": pw})
            if status != 200:
                return f"{status} {body}"
            sessions.append(body)
            if len(sessions) > 3:
                sessions.pop(0)  # a client that forgot a session: it idles out
            return True
        s = rng.choice(sessions)
        if op == "refresh":
            status, body = c.call("POST", "/v1/auth/refresh", {"refresh_token": s["refresh_token"]})
            if status != 200:
                return f"{status} {body}"
            sessions[sessions.index(s)] = body
        elif op == "me":
            status, body = c.call("GET", "/v1/users/me", token=s["access_token"])
            if status != 200:
                return f"{status} {body}"
        elif op == "logout":
            status, body = c.call("POST", "/v1/auth/logout", token=s["access_token"])
            if status != 204:
                return f"{status} {body}"
            sessions.remove(s)
        elif op == "challenge":
            cid = secrets.token_hex(8)
            status, body = c.call("POST", "/v1/challenges", {"action": "soak", "id": cid, "ttl": 300},
                                  token=self.api_key)
            if status != 201:
                return f"{status} {body}"
            status, body = c.call("POST", "/v1/challenges/verify", {"token": body["secret"]}, token=self.api_key)
            if status != 200:
                return f"{status} {body}"
        elif op == "forgot":
            status, body = c.call("POST", "/v1/auth/password/forgot", {"email": addr})
            if status != 202:
                return f"{status} {body}"
        return True


def load1() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1.0


def kib(path: Path) -> int:
    try:
        return path.stat().st_size // 1024
    except OSError:
        return 0


def connections(server: Server) -> int:
    """Open SQLite connections: file descriptors on the database file. Each
    has its own page cache (SQLite's default: up to 2000 KiB)."""
    fds = Path(f"/proc/{server.proc.pid}/fd")
    n = 0
    try:
        for fd in fds.iterdir():
            try:
                if Path(fd.readlink()) == server.db.resolve():
                    n += 1
            except OSError:
                pass
    except OSError:
        return -1
    return n


def timeline(soak: Soak, server: Server, every: float, stop: threading.Event) -> None:
    """Prints one line per slice of `every` seconds to stderr."""
    last = 0.0
    while not stop.wait(every):
        now = time.monotonic() - soak.start
        with soak.lock:
            lats = [lat for t, lat, _ in soak.samples if last <= t < now]
            errs = sum(1 for t in soak.error_times if last <= t < now)
        wal = server.db.with_name(server.db.name + "-wal")
        print(
            f"soak: t={now:5.0f}s rss={server.rss_kib()}KiB db={kib(server.db)}KiB "
            f"wal={kib(wal)}KiB conns={connections(server)} load1={load1():.2f} "
            f"requests={len(lats)} errors={errs} "
            f"p99_ms={p99(lats) * 1000:.1f}",
            file=sys.stderr,
            flush=True,
        )
        last = now


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--rate", type=float, default=100, help="requests per second, all threads together")
    ap.add_argument("--warmup", type=float, default=None, help="seconds before the first RSS reading")
    ap.add_argument("--rss-slack", type=float, default=0.5, help="allowed relative RSS growth")
    ap.add_argument("--sample-every", type=float, default=None, help="seconds between timeline lines")
    ap.add_argument("--bin")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    binary = find_binary(args.bin)
    work = Path(tempfile.mkdtemp(prefix="toktok-soak-"))
    server = Server(binary, work)
    api_key = server.cli("api-key", "create", "--name", "soak", "--scope", "challenges")
    server.start()
    soak = Soak(server, api_key, args.seconds, args.rate)
    warmup = args.warmup if args.warmup is not None else min(10.0, args.seconds / 6)
    soak.start = time.monotonic()
    threads = [threading.Thread(target=soak.worker, args=(i,), daemon=True) for i in range(THREADS)]
    every = args.sample_every or min(60.0, args.seconds / 10)
    stop = threading.Event()
    sampler = threading.Thread(target=timeline, args=(soak, server, every, stop), daemon=True)
    loads = [load1()]
    for t in threads:
        t.start()
    sampler.start()
    time.sleep(warmup)
    rss_start = server.rss_kib()
    for t in threads:
        t.join()
    stop.set()
    rss_end = server.rss_kib()
    loads.append(load1())
    alive = server.proc.poll() is None
    server.stop()

    width = args.seconds / WINDOWS
    windows = [[lat for t, lat, _ in soak.samples if i * width <= t < (i + 1) * width] for i in range(WINDOWS)]
    p99s = [p99(w) * 1000 for w in windows]
    total = len(soak.samples)
    failures = []
    if soak.errors:
        failures.append(f"{len(soak.errors)} errors, first: {soak.errors[:3]}")
    if not alive:
        failures.append("the server died")
    limit_kib = rss_start * (1 + args.rss_slack) + 16 * 1024
    if rss_end > limit_kib:
        failures.append(f"RSS grew from {rss_start} KiB to {rss_end} KiB")
    typical = sorted(p99s)[len(p99s) // 2]
    if p99s[-1] > 3 * typical + 50:
        failures.append(f"p99 rose to {p99s[-1]:.1f} ms (median window {typical:.1f} ms)")
    print(
        f"soak: seconds={args.seconds:.0f} requests={total} rate={total / args.seconds:.1f}/s "
        f"errors={len(soak.errors)} rss_start={rss_start}KiB rss_end={rss_end}KiB "
        f"p99_ms_per_window={[round(x, 1) for x in p99s]} overall_p99_ms={p99([s[1] for s in soak.samples]) * 1000:.1f} "
        f"load1_start_end={loads} "
        f"result={'FAIL: ' + '; '.join(failures) if failures else 'ok'}"
    )
    for when, what in sorted(zip(soak.error_times, soak.errors))[:20]:
        print(f"soak: error at t={when:.1f}s: {what[:200]}", file=sys.stderr)
    if failures or args.keep:
        print(f"work directory kept: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
