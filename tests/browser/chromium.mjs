// What the browser checks share: the base URL from the command line,
// Debian's Chromium launched offline, and the ok/FAIL tally that decides
// the exit code. Chromium is /usr/bin/chromium or $CHROMIUM; playwright-core
// never downloads a browser. The flags keep Chromium off the network: this
// machine's network is closed, and Chromium's background services would
// otherwise fail to connect over and over.

import { chromium } from "playwright-core";

export const TIMEOUT_MS = 30_000;

// The base URL given as the first argument, or a usage line and exit 2.
export function baseUrl(script) {
  const base = (process.argv[2] || "").replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+$/.test(base)) {
    console.error(`usage: node ${script} <base-url>   (for example http://127.0.0.1:8080)`);
    process.exit(2);
  }
  return base;
}

// Headless Chromium with a fresh empty profile (Playwright removes it on close).
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox", // CI runs as root, where Chromium's sandbox cannot start
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

// Named checks, printed as they are made; `finish` prints the count and
// exits 0 only when at least one passed and none failed.
export class Checks {
  constructor(label) {
    this.label = label;
    this.results = [];
  }

  check(name, ok, detail = "") {
    this.results.push({ name, ok });
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? " — " + detail : ""}`);
  }

  get failed() {
    return this.results.some((r) => !r.ok);
  }

  finish() {
    const passed = this.results.filter((r) => r.ok).length;
    const failedCount = this.results.length - passed;
    console.log(`${this.label}: ${passed} passed, ${failedCount} failed`);
    process.exit(failedCount === 0 && passed > 0 ? 0 : 1);
  }
}
