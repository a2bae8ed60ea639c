// Drives the "beyond passwords" parts of toktok's /demo page (issue 18) in
// headless Chromium: passkeys through the DevTools WebAuthn virtual
// authenticator, TOTP with the second step at login, email codes read from
// the dev outbox, and reauthentication for the (R) endpoints.
//
// Usage: node passkeys.mjs <base-url>   with OUTBOX_DIR (the server's
// email.outbox_dir) and SHOTS_DIR (where screenshots go) in the
// environment. The base URL must be on a host name (localhost), not an IP
// address: WebAuthn refuses IP addresses as relying party ids. run.sh
// starts the server (webauthn, totp and email_code on, email in dev mode).

import { createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { baseUrl, Checks, launch, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("passkeys.mjs");
const outbox = process.env.OUTBOX_DIR || "";
const shots = process.env.SHOTS_DIR || join(process.cwd(), "screenshots");
mkdirSync(shots, { recursive: true });
const checks = new Checks("browser passkeys, TOTP, email code");
const check = checks.check.bind(checks);
const STEP_MS = 15_000;

// --- RFC 6238 (TOTP: HMAC-SHA-1, 6 digits, 30 s), as authenticator apps do
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, ms = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 1000 / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

// --- Helpers ----------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

// A page on /demo with its traffic recorded, in a fresh browser context.
async function openDemo(browser, label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const traffic = [];
  page.on("response", (response) => {
    const request = response.request();
    const entry = {
      method: request.method(),
      path: new URL(request.url()).pathname,
      status: response.status(),
      body: null,
    };
    traffic.push(entry);
    entry.done = response.text().then((t) => { entry.body = t; }, () => {});
  });
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  await page.goto(base + "/demo", { waitUntil: "load", timeout: TIMEOUT_MS });
  // Settings loaded: the line names the features.
  await page.waitForFunction(() => /on$|characters|required/.test(document.getElementById("settings").textContent),
    null, { timeout: STEP_MS });
  return { context, page, traffic, problems, label };
}

// The last answer to METHOD PATH, its body parsed.
async function answer(demo, method, path) {
  const found = demo.traffic.filter((t) => t.method === method && t.path === path).pop();
  if (!found) return null;
  await found.done;
  let json = null;
  try { json = JSON.parse(found.body || "null"); } catch (_) {}
  return { status: found.status, json, text: found.body };
}

async function pageLog(page) {
  return page.$$eval("#log li", (items) => items.map((li) => li.textContent)).catch(() => []);
}

// The page's last log line, for failure details.
async function lastLog(page) {
  const lines = await pageLog(page);
  return lines.slice(-6).join(" | ");
}

// Waits for the page to show a signed-in session; its {aal, amr}.
async function signedIn(page, timeout = STEP_MS) {
  await page.waitForSelector("#session-info[data-aal]", { state: "attached", timeout });
  return page.$eval("#session-info", (e) => ({ aal: e.dataset.aal, amr: e.dataset.amr.split(" ") }));
}

async function signOut(page) {
  await page.click("#logout");
  await page.waitForFunction(() => document.getElementById("session-info").textContent === "none",
    null, { timeout: STEP_MS });
}

async function register(page) {
  const email = await page.inputValue("#email");
  const password = await page.inputValue("#password");
  await page.click("#register");
  await signedIn(page);
  return { email, password };
}

// Runs one named part; a thrown error is a failed check with the page's log.
async function part(demo, name, body) {
  try {
    await body();
  } catch (e) {
    check(`${demo.label}: ${name}`, false, `${e instanceof Error ? e.message : e} — page log: ${await lastLog(demo.page)}`);
  }
}

async function screenshot(demo, selector, name) {
  const { page } = demo;
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 900 });
    const path = join(shots, `${name}-${width}.png`);
    await page.locator(selector).screenshot({ path });
    console.log(`     screenshot: ${path}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

// A DevTools virtual authenticator: a platform authenticator with
// discoverable credentials, verifying the user or not. Without user
// verification it is modelled as an authenticator that cannot verify
// (hasUserVerification false): one that can but whose check fails
// (isUserVerified false alone) makes Chromium refuse every ceremony with
// NotAllowedError, since toktok prefers UV. (Chromium 156 also refuses a
// discoverable request on one that cannot verify, and any ceremony on a
// usb/nfc/hybrid one without UV, whatever the server says.)
async function authenticator(demo, isUserVerified) {
  const cdp = await demo.context.newCDPSession(demo.page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: isUserVerified,
      isUserVerified,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function addPasskey(demo, name) {
  const { page } = demo;
  await page.fill("#passkey-name", name);
  const added = page.waitForResponse((r) => r.request().method() === "POST" &&
    new URL(r.url()).pathname === "/v1/users/me/passkeys", { timeout: STEP_MS });
  await page.click("#passkey-add");
  await added;
}

function tokenOf(a) {
  return a && a.json && a.json.access_token ? claimsOf(a.json.access_token) : null;
}

// --- The checks -------------------------------------------------------------

// The endpoints the page uses (docs/API.md, "Sign-in beyond passwords").
const ENDPOINTS = [
  "/v1/auth/passkey/options", "/v1/auth/passkey", "/v1/auth/mfa", "/v1/auth/mfa/passkey-options",
  "/v1/auth/email-code", "/v1/auth/email-code/verify", "/v1/auth/reauthenticate",
  "/v1/auth/reauthenticate/passkey-options", "/v1/users/me/factors", "/v1/users/me/totp",
  "/v1/users/me/totp/confirm", "/v1/users/me/passkeys/options", "/v1/users/me/passkeys",
  "/v1/users/me/passkeys/{id}",
];

// A server without these features fails here at once, naming what is
// missing, rather than through a chain of timeouts.
async function preflight() {
  const direct = base.replace("//localhost:", "//127.0.0.1:");
  const settings = await (await fetch(direct + "/v1/settings")).json();
  const doc = await (await fetch(direct + "/openapi.json")).json();
  const off = ["totp", "passkeys", "email_code"].filter((f) => !(settings[f] && settings[f].enabled));
  const missing = ENDPOINTS.filter((p) => !doc.paths[p]);
  check("the server has totp, passkeys and email_code on, and every endpoint the page uses",
    off.length === 0 && missing.length === 0,
    [off.length ? "off or absent in /v1/settings: " + off.join(", ") : "",
     missing.length ? "not in /openapi.json: " + missing.join(", ") : ""].filter(Boolean).join("; "));
  return off.length === 0 && missing.length === 0;
}

let browser;
try {
  if (!(await preflight())) checks.finish();
  browser = await launch();

  // 1. A passkey that verifies the user: register, sign out, sign in
  //    usernameless (aal 2); the password then needs the passkey as its
  //    second step; removing the passkey.
  const a = await openDemo(browser, "passkey with UV");
  const auth = await authenticator(a, true);
  await part(a, "register and add a passkey", async () => {
    check("the page offers passkey sign-in when settings say passkeys are on",
      await a.page.isVisible("#passkey-signin"));
    a.who = await register(a.page);
    await addPasskey(a, "e2e key");
    const added = await answer(a, "POST", "/v1/users/me/passkeys");
    check("passkey with UV: POST /v1/users/me/passkeys → 201 through navigator.credentials.create",
      added?.status === 201 && added.json?.name === "e2e key", `${added?.status} ${added?.text}`);
    const { credentials } = await auth.cdp.send("WebAuthn.getCredentials", { authenticatorId: auth.authenticatorId });
    check("passkey with UV: the authenticator holds one discoverable credential",
      credentials.length === 1 && credentials[0].isResidentCredential, JSON.stringify(credentials.map((c) => c.isResidentCredential)));
    await a.page.waitForFunction(() => document.getElementById("factor-list").textContent.includes("e2e key"),
      null, { timeout: STEP_MS });
    check("passkey with UV: the factors list (GET /v1/users/me/factors) shows the new passkey", true);
    await screenshot(a, "#security", "security-passkey");
  });
  await part(a, "reauthentication", async () => {
    // The session is aal 1 (password) and the user now has a passkey: an
    // (R) call answers 403 reauthentication_required and the page asks. A
    // password is aal 1 again, not enough: asked again; the passkey is.
    await a.page.click("#totp-start");
    await a.page.waitForSelector("#reauth", { state: "visible", timeout: STEP_MS });
    const refused = a.traffic.filter((r) => r.path === "/v1/users/me/totp").pop();
    await refused?.done;
    check("reauthentication: an (R) call answering 403 reauthentication_required shows the prompt",
      refused?.status === 403 && /reauthentication_required/.test(refused.body || ""), `${refused?.status}`);
    await screenshot(a, "#reauth", "reauth-prompt");
    await a.page.fill("#reauth-password", a.who.password);
    await a.page.click("#reauth-with-password");
    await a.page.waitForFunction(() => /not enough/.test(document.getElementById("reauth-why").textContent),
      null, { timeout: STEP_MS });
    const byPassword = await answer(a, "POST", "/v1/auth/reauthenticate");
    check("reauthentication: the password → 200, but aal 1 is not enough with a second factor: asked again",
      byPassword?.status === 200 && tokenOf(byPassword)?.aal === 1, `${byPassword?.status} ${byPassword?.text?.slice(0, 120)}`);
    await a.page.click("#reauth-with-passkey");
    await a.page.waitForSelector("#totp-pending", { state: "visible", timeout: STEP_MS });
    const byPasskey = tokenOf(await answer(a, "POST", "/v1/auth/reauthenticate"));
    const retried = await answer(a, "POST", "/v1/users/me/totp");
    check("reauthentication: the passkey raises the session to aal 2 and the call is retried (200)",
      byPasskey?.aal === 2 && retried?.status === 200, `${JSON.stringify(byPasskey && { amr: byPasskey.amr, aal: byPasskey.aal })}, ${retried?.status}`);
    check("reauthentication: the prompt is gone", !(await a.page.isVisible("#reauth")));
  });
  await part(a, "usernameless sign-in", async () => {
    await signOut(a.page);
    await a.page.click("#passkey-signin");
    const s = await signedIn(a.page);
    const res = await answer(a, "POST", "/v1/auth/passkey");
    const c = tokenOf(res);
    check("passkey with UV: usernameless sign-in gives aal 2, amr [hwk|swk, user]",
      s.aal === "2" && c?.aal === 2 && c.amr.includes("user") && (c.amr.includes("hwk") || c.amr.includes("swk")),
      `page aal ${s.aal}, token ${JSON.stringify(c && { amr: c.amr, aal: c.aal })}`);
    const opts = await answer(a, "POST", "/v1/auth/passkey/options");
    const o = opts?.json?.options?.publicKey || opts?.json?.options || {};
    check("passkey sign-in options are usernameless (no allowCredentials)",
      !(o.allowCredentials && o.allowCredentials.length), JSON.stringify(o.allowCredentials));
  });
  await part(a, "password then passkey as second step", async () => {
    await signOut(a.page);
    await a.page.click("#login");
    await a.page.waitForSelector("#mfa-step", { state: "visible", timeout: STEP_MS });
    const login = await answer(a, "POST", "/v1/auth/login");
    check("passkey with UV: a password login answers mfa_required with factor passkey",
      login?.json?.mfa_required === true && (login.json.factors || []).includes("passkey"),
      `${login?.status} ${login?.text?.slice(0, 200)}`);
    await screenshot(a, "#mfa-step", "mfa-step-passkey");
    await a.page.click("#mfa-passkey");
    const s = await signedIn(a.page);
    const c = tokenOf(await answer(a, "POST", "/v1/auth/mfa"));
    check("passkey with UV: password + passkey step gives aal 2",
      s.aal === "2" && c?.aal === 2, `token ${JSON.stringify(c && { amr: c.amr, aal: c.aal })}`);
  });
  await part(a, "remove the passkey", async () => {
    await a.page.click("#factors-load");
    await a.page.waitForSelector("#factor-list button[data-passkey]", { timeout: STEP_MS });
    await a.page.click("#factor-list button[data-passkey]");
    // This session was raised to aal 2 by that passkey: removing it ends
    // the session, and the page says so.
    await a.page.waitForFunction(() => document.getElementById("session-info").textContent === "none",
      null, { timeout: STEP_MS });
    const del = a.traffic.filter((t) => t.method === "DELETE" && t.path.startsWith("/v1/users/me/passkeys/")).pop();
    const after = a.traffic.filter((t) => t.path === "/v1/users/me/factors").pop();
    check("passkey with UV: removing the passkey from the factors list (DELETE → 204) ends the session it raised",
      del?.status === 204 && after?.status === 401, `DELETE ${del?.status}, then factors ${after?.status}`);
  });
  check("passkey with UV: no CSP violations or script errors", a.problems.length === 0, a.problems.join(" | "));
  await a.context.close();

  // 2. An authenticator that cannot verify the user (hasUserVerification
  //    false). Chromium itself refuses a usernameless (discoverable) request
  //    on it, so no session may come of it; as a second factor after the
  //    password (credentials listed) it works and gives aal 2.
  const b = await openDemo(browser, "passkey without UV");
  const authB = await authenticator(b, false);
  await part(b, "register, add, sign in", async () => {
    b.who = await register(b.page);
    await addPasskey(b, "no-uv key");
    const added = await answer(b, "POST", "/v1/users/me/passkeys");
    const { credentials } = await authB.cdp.send("WebAuthn.getCredentials", { authenticatorId: authB.authenticatorId });
    check("passkey without UV: registered (201), the authenticator holds a discoverable credential",
      added?.status === 201 && credentials.length === 1 && credentials[0].isResidentCredential,
      `${added?.status} ${JSON.stringify(credentials.map((c) => c.isResidentCredential))}`);
    await signOut(b.page);
    await b.page.click("#passkey-signin");
    await b.page.waitForFunction(() => /passkey sign-in failed|POST \/v1\/auth\/passkey →/.test(
      document.getElementById("log").textContent), null, { timeout: STEP_MS });
    const res = await answer(b, "POST", "/v1/auth/passkey");
    const c = tokenOf(res);
    check("passkey without UV: usernameless sign-in gives no aal 2 session (aal 1, or refused)",
      !c || (c.aal === 1 && !c.amr.includes("user")),
      res ? `${res.status} ${c ? JSON.stringify({ amr: c.amr, aal: c.aal }) : res.text?.slice(0, 200)}`
          : "Chromium refused the ceremony (NotAllowedError) before any request");
  });
  await part(b, "password, then the passkey as second step", async () => {
    await b.page.fill("#email", b.who.email);
    await b.page.fill("#password", b.who.password);
    await b.page.click("#login");
    await b.page.waitForSelector("#mfa-step", { state: "visible", timeout: STEP_MS });
    await b.page.click("#mfa-passkey");
    const s = await signedIn(b.page);
    const c = tokenOf(await answer(b, "POST", "/v1/auth/mfa"));
    check("passkey without UV: password + passkey step gives aal 2",
      s.aal === "2" && c?.aal === 2, JSON.stringify(c && { amr: c.amr, aal: c.aal }));
  });
  check("passkey without UV: no CSP violations or script errors", b.problems.length === 0, b.problems.join(" | "));
  await b.context.close();

  // 3. TOTP: enrol in the page; the enrolling session is still aal 1, so
  //    adding a passkey (R) now asks to reauthenticate: a password is not
  //    enough, a recovery code is. Then sign out, password → second step
  //    → recovery code, and again with a TOTP code.
  const t = await openDemo(browser, "TOTP");
  await authenticator(t, true);
  await part(t, "enrol, reauthenticate, sign in with a recovery code and a TOTP code", async () => {
    const who = await register(t.page);
    await t.page.click("#totp-start");
    await t.page.waitForSelector("#totp-pending", { state: "visible", timeout: STEP_MS });
    const secret = (await t.page.textContent("#totp-secret")).trim();
    const uri = new URL((await t.page.textContent("#totp-uri")).trim());
    check("TOTP: the otpauth URI carries the shown secret (SHA1, 6 digits, 30 s when named)",
      uri.protocol === "otpauth:" && uri.searchParams.get("secret") === secret &&
        ["SHA1", null].includes(uri.searchParams.get("algorithm")) &&
        ["6", null].includes(uri.searchParams.get("digits")) && ["30", null].includes(uri.searchParams.get("period")),
      uri.href.replace(secret, "<secret>"));
    const enrolledAt = Date.now();
    await t.page.fill("#totp-code", totp(secret));
    await t.page.click("#totp-confirm");
    await t.page.waitForSelector("#recovery", { state: "visible", timeout: STEP_MS });
    const codes = await t.page.$$eval("#recovery-codes li", (li) => li.map((x) => x.textContent));
    check("TOTP: confirming shows 10 recovery codes once", codes.length === 10, `${codes.length}`);
    await t.page.waitForFunction(() => /Authenticator app: on/.test(document.getElementById("factor-list").textContent),
      null, { timeout: STEP_MS });
    await screenshot(t, "#security", "security-totp");

    // Another (R) call: when confirming did not raise this session to
    // aal 2, the page asks to reauthenticate; a recovery code answers.
    await t.page.fill("#passkey-name", "after totp");
    const added = t.page.waitForResponse((r) => r.request().method() === "POST" &&
      new URL(r.url()).pathname === "/v1/users/me/passkeys", { timeout: STEP_MS });
    await t.page.click("#passkey-add");
    await t.page.waitForFunction(() => !document.getElementById("reauth").hidden ||
      /POST \/v1\/users\/me\/passkeys →/.test(document.getElementById("log").textContent), null, { timeout: STEP_MS });
    let used = 1;
    if (await t.page.isVisible("#reauth")) {
      used = 2;
      await t.page.fill("#reauth-code", codes[9]);
      await t.page.click("#reauth-with-code");
    } else {
      console.log("     note: confirming TOTP raised the enrolling session to aal 2 (no reauthentication asked)");
    }
    check("TOTP: a passkey can be added after TOTP (201)", (await added).status() === 201);

    await signOut(t.page);
    check("TOTP: signing out hides the recovery codes", !(await t.page.isVisible("#recovery")));
    await t.page.click("#login");
    await t.page.waitForSelector("#mfa-step", { state: "visible", timeout: STEP_MS });
    const login = await answer(t, "POST", "/v1/auth/login");
    check("TOTP: a password login answers mfa_required and no tokens",
      login?.json?.mfa_required === true && !login.json.access_token && (login.json.factors || []).includes("totp"),
      login?.text?.slice(0, 200));
    await screenshot(t, "#mfa-step", "mfa-step-totp");
    await t.page.fill("#mfa-code", codes[0]);
    await t.page.click("#mfa-submit");
    let s = await signedIn(t.page);
    check("TOTP: password + recovery code gives aal 2", s.aal === "2", JSON.stringify(s));

    // A TOTP code works once: wait for the next 30 s step after the one
    // used to confirm.
    await signOut(t.page);
    const nextStep = (Math.floor(enrolledAt / 30_000) + 1) * 30_000;
    if (Date.now() < nextStep + 500) await sleep(nextStep + 500 - Date.now());
    await t.page.click("#login");
    await t.page.waitForSelector("#mfa-step", { state: "visible", timeout: STEP_MS });
    await t.page.fill("#mfa-code", totp(secret));
    await t.page.click("#mfa-submit");
    s = await signedIn(t.page);
    const c = tokenOf(await answer(t, "POST", "/v1/auth/mfa"));
    check("TOTP: password + TOTP code gives aal 2, amr [pwd, otp]",
      s.aal === "2" && c?.aal === 2 && c.amr.includes("pwd") && c.amr.includes("otp"),
      JSON.stringify(c && { amr: c.amr, aal: c.aal }));
    await t.page.click("#factors-load");
    await t.page.waitForFunction((n) => document.getElementById("factor-list").textContent.includes(`Recovery codes: ${n} left`),
      10 - used, { timeout: STEP_MS });
    check(`TOTP: the factors list counts ${10 - used} recovery codes after ${used} used`, true);
  });
  check("TOTP: no CSP violations or script errors", t.problems.length === 0, t.problems.join(" | "));
  await t.context.close();

  // 4. Email code: the code is read from the dev outbox.
  const e = await openDemo(browser, "email code");
  await part(e, "sign in with a code from the outbox", async () => {
    if (!outbox) throw new Error("OUTBOX_DIR is not set");
    const who = await register(e.page);
    await signOut(e.page);
    check("the page offers email-code sign-in when settings say it is on", await e.page.isVisible("#email-code-send"));
    const before = Date.now() - 1000;
    await e.page.fill("#code-email", who.email);
    await e.page.click("#email-code-send");
    const sent = await (async () => {
      for (let i = 0; i < 50; i++) {
        const r = await answer(e, "POST", "/v1/auth/email-code");
        if (r && r.text !== null) return r;
        await sleep(100);
      }
      return null;
    })();
    check("email code: POST /v1/auth/email-code → 202", sent?.status === 202, `${sent?.status} ${sent?.text?.slice(0, 200)}`);
    await screenshot(e, "#passwordless", "email-code");
    let code = null;
    for (let i = 0; i < 100 && !code; i++) {
      for (const name of readdirSync(outbox).filter((n) => n.endsWith(".eml"))) {
        const file = join(outbox, name);
        if (statSync(file).mtimeMs < before) continue;
        const text = readFileSync(file, "utf8");
        const split = text.search(/\r?\n\r?\n/);
        const headers = text.slice(0, split), body = text.slice(split);
        if (!new RegExp(`^To:.*${who.email.replace(/[.+]/g, "\\$&")}`, "mi").test(headers)) continue;
        const m = body.replace(/=\r?\n/g, "").match(/(?<![0-9A-Za-z=])([0-9]{6})(?![0-9A-Za-z])/);
        if (m) code = m[1];
      }
      if (!code) await sleep(150);
    }
    check("email code: a 6-digit code reached the dev outbox", !!code, outbox);
    if (!code) return;
    await e.page.fill("#email-code", code);
    await e.page.click("#email-code-verify");
    const s = await signedIn(e.page);
    const c = tokenOf(await answer(e, "POST", "/v1/auth/email-code/verify"));
    check("email code: the code signs in, amr [otp], aal 1",
      s.aal === "1" && c?.aal === 1 && JSON.stringify(c.amr) === '["otp"]',
      JSON.stringify(c && { amr: c.amr, aal: c.aal }));
  });
  check("email code: no CSP violations or script errors", e.problems.length === 0, e.problems.join(" | "));
  if (checks.failed) {
    console.log("--- the email-code page's log ---");
    for (const line of await pageLog(e.page)) console.log("  " + line);
  }
  await e.context.close();
} catch (err) {
  check("the browser test ran to the end", false, err instanceof Error ? err.message : String(err));
} finally {
  await browser?.close().catch(() => {});
}

checks.finish();
