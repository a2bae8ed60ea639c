// The client library across tabs (issue 24): four tabs of one origin share
// the tokens (storage "local") and call getAccessToken() for several
// access-token lifetimes (2 s tokens, reuse_grace 0: strict rotation).
// With the cross-tab lock no refresh token is presented twice, no session
// is revoked and the server records no reuse; the same run with the lock
// off does trip reuse detection, so the test can fail.
//
//   node tabs.mjs <base-url>    (TOKTOK_ADMIN_KEY: an admin API key)

import { launch, baseUrl, Checks, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("tabs.mjs");
const adminKey = process.env.TOKTOK_ADMIN_KEY;
const checks = new Checks("client library across tabs");
const RUN_MS = 9_000;
const TABS = 4;

async function reuses() {
  const res = await fetch(`${base}/v1/admin/audit?kind=refresh.reused&limit=200`, {
    headers: { authorization: "Bearer " + adminKey },
  });
  if (res.status !== 200) throw new Error("audit: " + res.status);
  return (await res.json()).events.length;
}

async function scenario(browser, lock) {
  const context = await browser.newContext();
  // A blank page on toktok's origin (so the tabs share its localStorage);
  // the library itself comes from the server, /sdk/toktok.js.
  await context.route(base + "/__tabs", (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><title>tab</title>" }));
  const presented = [];
  const pages = [];
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on("request", (r) => {
      if (r.url().endsWith("/v1/auth/refresh")) presented.push(JSON.parse(r.postData()).refresh_token);
    });
    await page.goto(base + "/__tabs");
    pages.push(page);
  }
  const email = `tabs-${lock ? "locked" : "unlocked"}-${Date.now()}@example.com`;
  await pages[0].evaluate(async ({ base, email }) => {
    const { createClient } = await import(base + "/sdk/toktok.js");
    await createClient({ url: base, storage: "local" }).signUp({ email, password: "a long passphrase of mine" });
  }, { base, email });
  const before = await reuses();
  const results = await Promise.all(pages.map((page) => page.evaluate(async ({ base, lock, ms }) => {
    const { createClient } = await import(base + "/sdk/toktok.js");
    const auth = createClient({ url: base, storage: "local", lock });
    const errors = [];
    let calls = 0;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      try {
        const token = await auth.getAccessToken();
        if (!token) { errors.push("signed out"); break; }
        const res = await fetch(base + "/v1/users/me", { headers: { authorization: "Bearer " + token } });
        if (res.status !== 200) { errors.push("GET /v1/users/me " + res.status); break; }
        calls++;
      } catch (e) {
        errors.push(e.code || String(e));
        break;
      }
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
    return { errors, calls };
  }, { base, lock, ms: RUN_MS })));
  const after = await reuses();
  await context.close();
  return {
    errors: results.flatMap((r) => r.errors),
    calls: results.reduce((n, r) => n + r.calls, 0),
    refreshes: presented.length,
    distinct: new Set(presented).size,
    reused: after - before,
  };
}

const browser = await launch();
try {
  const locked = await scenario(browser, true);
  checks.check(`with the lock: ${TABS} tabs, ${locked.calls} calls, no error`, locked.errors.length === 0,
    locked.errors.join(", "));
  checks.check(`with the lock: ${locked.refreshes} refreshes over ${RUN_MS / 1000} s of 2 s tokens`,
    locked.refreshes >= 4, "expected several lifetimes' worth");
  checks.check("with the lock: each refresh token presented exactly once",
    locked.distinct === locked.refreshes, `${locked.distinct} distinct of ${locked.refreshes}`);
  checks.check("with the lock: the server recorded no reuse", locked.reused === 0, `${locked.reused} refresh.reused`);

  const unlocked = await scenario(browser, false);
  checks.check("without the lock: the same run presents a refresh token twice",
    unlocked.distinct < unlocked.refreshes, `${unlocked.distinct} distinct of ${unlocked.refreshes}`);
  checks.check("without the lock: reuse detection trips and the session ends",
    unlocked.reused > 0 && unlocked.errors.length > 0, `${unlocked.reused} refresh.reused; ${unlocked.errors.slice(0, 3).join(", ")}`);
} finally {
  await browser.close();
}
checks.finish();
