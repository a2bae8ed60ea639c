"""Import at scale (issue 23): `toktok users import` of a 100,000-user file
into an empty SQLite database and an empty PostgreSQL database, timed, with
the process's peak memory; and a 1,000,000-user file on SQLite, to show the
memory does not grow with the file. Replaces the marked "Import" section of
BENCHMARKS.md.

    python3 bench/import.py [--users N] [--runs N] [--big N] [--out FILE]

  --users  lines of the timed file (default 100000)
  --runs   repetitions per store (default 3); the table shows min/median/max
  --big    lines of the memory file (default 1000000; 0: skip)
  --out    the report to update (default BENCHMARKS.md; "-": nowhere)

Builds the release binary with the `postgres` feature. PostgreSQL: a
throwaway cluster as tests/postgres/run.sh starts it (loopback, fsync=on,
synchronous_commit=on), or BENCH_PG_URL (a server where this user may
CREATE DATABASE). Each line is what an import from GoTrue brings: an
address, a bcrypt hash, a confirmation, a little metadata.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HASH = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"


def say(text):
    print(text, file=sys.stderr, flush=True)


def write_file(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({
                "email": f"user{i}@example.com", "password_hash": HASH, "email_confirmed": True,
                "metadata": {"plan": "free", "n": i}, "created_at": "2024-01-02T03:04:05Z",
            }) + "\n")


def run_import(binary, config, path):
    """Seconds and peak RSS (MiB) of one `toktok users import`."""
    started = time.monotonic()
    child = subprocess.Popen([binary, "--config", config, "users", "import", path],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    if status != 0:
        sys.exit(f"bench/import: users import failed: {out[:500]!r}")
    report = json.loads(out)
    return seconds, usage.ru_maxrss / 1024, report


def http_import(binary, work, path):
    """Seconds and the server's peak RSS (MiB) before and after a POST of
    `path` to /v1/admin/users/import, streamed by curl."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    config = config_file(work, f"[database]\npath = \"{work}/toktok.db\"\n[server]\nlisten = \"127.0.0.1:{port}\"")
    key = subprocess.run([binary, "--config", config, "api-key", "create", "--name", "bench", "--scope", "admin"],
                         capture_output=True, text=True, check=True).stdout.strip()
    server = subprocess.Popen([binary, "--config", config, "serve"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if subprocess.run(["curl", "-fs", f"http://127.0.0.1:{port}/ready"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        hwm = lambda: int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{server.pid}/status").read()).group(1)) / 1024
        before = hwm()
        started = time.monotonic()
        out = subprocess.run(["curl", "-fsS", "-X", "POST", "-T", path, "-H", f"authorization: Bearer {key}",
                              "-H", "content-type: application/x-ndjson",
                              f"http://127.0.0.1:{port}/v1/admin/users/import"],
                             capture_output=True, check=True).stdout
        seconds = time.monotonic() - started
        report = json.loads(out)
        return seconds, before, hwm(), report
    finally:
        server.terminate()
        server.wait()


def config_file(work, database):
    path = os.path.join(work, "toktok.toml")
    with open(path, "w") as f:
        f.write(f"{database}\n[metrics]\nlisten = \"off\"\n[email]\noutbox_dir = \"{work}/outbox\"\n")
    return path


class Cluster:
    """A throwaway PostgreSQL cluster, as tests/postgres/run.sh starts it."""

    def __init__(self, work):
        self.url = os.environ.get("BENCH_PG_URL")
        self.data = None
        if self.url:
            return
        bindir = next((f"/usr/lib/postgresql/{v}/bin" for v in sorted(os.listdir("/usr/lib/postgresql"))
                       if os.path.exists(f"/usr/lib/postgresql/{v}/bin/initdb")), None) \
            if os.path.isdir("/usr/lib/postgresql") else None
        if bindir is None:
            sys.exit("bench/import: no PostgreSQL server binaries (apt-get install postgresql), or set BENCH_PG_URL")
        self.bin = bindir
        self.as_pg = []
        if os.getuid() == 0:
            subprocess.run(["id", "postgres"], check=False, capture_output=True).returncode == 0 or \
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], check=True)
            shutil.chown(work, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(work, "pg")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        subprocess.run(self.as_pg + [f"{bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "toktok",
                                     "-E", "UTF8", "--no-instructions"], check=True, capture_output=True)
        subprocess.run(self.as_pg + [f"{bindir}/pg_ctl", "-D", self.data, "-l", f"{work}/pg.log", "-w", "-o",
                                     f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={work} "
                                     "-c fsync=on -c synchronous_commit=on", "start"], check=True, capture_output=True)
        self.url = f"postgresql://toktok@127.0.0.1:{port}/postgres"

    def database(self, name):
        subprocess.run(["psql", self.url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))

    def stop(self):
        if self.data:
            subprocess.run(self.as_pg + [f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"],
                           capture_output=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--big", type=int, default=1_000_000)
    p.add_argument("--out", default="BENCHMARKS.md")
    a = p.parse_args()

    say("building the release binary (--features postgres)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--features", "postgres", "--bin", "toktok"],
                   cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target if os.path.isabs(target) else os.path.join(ROOT, target), "release", "toktok")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()

    work = tempfile.mkdtemp(prefix="toktok-import-bench.")
    os.chmod(work, 0o755)
    cluster = None
    try:
        users = os.path.join(work, "users.ndjson")
        write_file(users, a.users)
        size_mb = os.path.getsize(users) / 1e6
        rows = {}
        for store in ["SQLite", "PostgreSQL"]:
            results = []
            for run in range(a.runs):
                run_dir = tempfile.mkdtemp(dir=work)
                os.chmod(run_dir, 0o777)
                if store == "SQLite":
                    database = f"[database]\npath = \"{run_dir}/toktok.db\""
                else:
                    cluster = cluster or Cluster(work)
                    database = f"[database]\nurl = \"{cluster.database(f'bench{run}')}\""
                seconds, rss, report = run_import(binary, config_file(run_dir, database), users)
                if report["created"] != a.users:
                    sys.exit(f"bench/import: {report['created']} created, {a.users} expected")
                say(f"{store} run {run + 1}: {seconds:.2f} s, {a.users / seconds:,.0f} users/s, peak {rss:.1f} MiB")
                results.append((seconds, rss))
            rows[store] = results
        big = None
        http = None
        if a.big:
            path = os.path.join(work, "big.ndjson")
            write_file(path, a.big)
            run_dir = tempfile.mkdtemp(dir=work)
            seconds, rss, report = run_import(binary, config_file(run_dir, f"[database]\npath = \"{run_dir}/toktok.db\""), path)
            os.remove(path)
            big = (seconds, rss)
            say(f"SQLite, {a.big:,} users: {seconds:.1f} s, peak {rss:.1f} MiB")
            run_dir = tempfile.mkdtemp(dir=work)
            write_file(path, a.big)
            http = http_import(binary, run_dir, path)
            os.remove(path)
            if http[3]["created"] != a.big:
                sys.exit(f"bench/import: HTTP created {http[3]['created']}")
            say(f"HTTP, {a.big:,} users: {http[0]:.1f} s, server peak {http[1]:.1f} -> {http[2]:.1f} MiB")
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)

    def triple(values, fmt):
        return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "<!-- import:begin -->",
        "## Import (issue 23)",
        "",
        f"Written by `python3 bench/import.py` ({a.runs} runs per store; toktok {commit}, "
        f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}; load average at the end: {load} on {os.cpu_count()} cores).",
        f"`toktok users import` (release build) of a {a.users:,}-line file ({size_mb:.1f} MB: address, bcrypt hash,",
        "confirmation, a little metadata, a creation time) into an empty database, from process start to exit",
        "(migrations included), in batches of 500, each one durable transaction. PostgreSQL: a local cluster",
        "with fsync and synchronous_commit on. Peak memory is the process's maximum resident set.",
        "",
        "| store | seconds min / median / max | users/s (median) | peak RSS MiB (median) |",
        "|---|---|---|---|",
    ]
    for store, results in rows.items():
        secs = [s for s, _ in results]
        lines.append(f"| {store}, {a.users:,} users | {triple(secs, '{:.2f}')} | "
                     f"{a.users / statistics.median(secs):,.0f} | {statistics.median([r for _, r in results]):.1f} |")
    if big:
        lines.append(f"| SQLite, {a.big:,} users (once) | {big[0]:.1f} | {a.big / big[0]:,.0f} | {big[1]:.1f} |")
    if http:
        lines.append(f"| SQLite over HTTP, {a.big:,} users (once; `POST /v1/admin/users/import` streamed by curl) | "
                     f"{http[0]:.1f} | {a.big / http[0]:,.0f} | server {http[2]:.1f} (idle {http[1]:.1f}) |")
    lines.append("")
    lines.append("Memory holds a batch, the report's listed lines and an 8-byte fingerprint per address read")
    lines.append("(a hash set, which doubles as it grows), never the file or the users.")
    if big:
        small = statistics.median([r for _, r in rows["SQLite"]])
        per_user = (big[1] - small) * 1024 * 1024 / (a.big - a.users)
        lines.append(f"From {a.users:,} to {a.big:,} users the peak grew by {big[1] - small:.1f} MiB, "
                     f"{per_user:.0f} bytes per added user (the set, and SQLite's cache of a larger index).")
    lines.append("<!-- import:end -->")
    section = "\n".join(lines) + "\n"
    print(section)
    if a.out != "-":
        text = open(a.out).read() if os.path.exists(a.out) else ""
        text = re.sub(r"\n?<!-- import:begin -->.*?<!-- import:end -->\n", "", text, flags=re.S)
        with open(a.out, "w") as f:
            f.write(text.rstrip("\n") + "\n\n" + section)
        say(f"wrote the import section of {a.out}")


if __name__ == "__main__":
    main()
