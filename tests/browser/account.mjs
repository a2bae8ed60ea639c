// The account center (/account, issue 21) in a real headless Chromium, once
// in English and once in French (the browser's Accept-Language):
//
//  1. a person signs up on /register, confirms their address from the
//     link in the dev outbox, signs out and in again on /login and lands
//     on /account;
//  2. enrols TOTP from the secret shown next to the server-drawn QR code,
//     sees their recovery codes, adds a passkey with the DevTools virtual
//     authenticator;
//  3. ends a second session (signed in through the API) from the sessions
//     page, after its confirmation;
//  4. allows an OIDC client (created with the admin API key), then revokes
//     it from the connections page;
//  5. reads the security log.
// Every page is shot at 1280 and 360 px into SHOTS_DIR
// (account-<page>-<width>-<lang>.png) and checked by axe; no request leaves
// toktok's origin, no CSP violation, no script error.
//
// Usage: TOKTOK_ADMIN_KEY=… OUTBOX_DIR=… SHOTS_DIR=… node account.mjs http://localhost:PORT

import { createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

import { axeCheck } from "./axe.mjs";
import { baseUrl, Checks, launch, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("account.mjs");
const direct = base.replace("//localhost:", "//127.0.0.1:");
const adminKey = process.env.TOKTOK_ADMIN_KEY || "";
const outbox = process.env.OUTBOX_DIR || "";
const shots = process.env.SHOTS_DIR || join(process.cwd(), "screenshots");
mkdirSync(shots, { recursive: true });
const checks = new Checks("browser account center");
const check = checks.check.bind(checks);
const STEP_MS = 15_000;
const PASSWORD = "correct horse battery staple";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- RFC 6238, as an authenticator app computes it ---------------------------
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]+/g, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
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
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

async function api(method, path, body, token) {
  const res = await fetch(direct + path, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

// The client's side of the OIDC authorization: a tiny local server.
const rp = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end("<!doctype html><title>client</title><p>Back at the client.</p>");
});
await new Promise((r) => rp.listen(0, "127.0.0.1", r));
const rpOrigin = `http://127.0.0.1:${rp.address().port}`;
const CALLBACK = `${rpOrigin}/callback`;

// The confirmation link mailed to `email` (quoted-printable undone).
async function confirmLink(email) {
  for (let i = 0; i < 100; i++) {
    for (const name of readdirSync(outbox).filter((n) => n.endsWith(".eml"))) {
      const text = readFileSync(join(outbox, name), "utf8");
      const split = text.search(/\r?\n\r?\n/);
      if (!new RegExp(`^To:.*${email.replace(/[.+]/g, "\\$&")}`, "mi").test(text.slice(0, split))) continue;
      const body = text.slice(split).replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      const m = body.match(/https?:\/\/[^\s"<>]*\/v1\/auth\/confirm-email\?token=[A-Za-z0-9_.~-]+/);
      if (m) return m[0];
    }
    await sleep(150);
  }
  return null;
}

// One language's run: a context whose every request and report is watched.
async function run(browser, lang) {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: lang === "fr" ? "fr-FR" : "en-US",
  });
  await ctx.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`securitypolicyviolation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));
  });
  const problems = [];
  const allowed = new Set([new URL(base).origin, rpOrigin]);
  ctx.on("request", (r) => {
    const u = new URL(r.url());
    if (/^https?:$/.test(u.protocol) && !allowed.has(u.origin)) problems.push(`request to ${r.url()}`);
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));

  const shot = async (name, p = page) => {
    for (const width of [1280, 360]) {
      await p.setViewportSize({ width, height: 900 });
      await p.screenshot({ path: join(shots, `account-${name}-${width}-${lang}.png`), fullPage: true });
      await axeCheck(p, `account ${name} ${width} ${lang}`, check);
      const wide = await p.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      check(`${lang} ${name} at ${width} px: nothing wider than the screen`, !wide);
    }
    await p.setViewportSize({ width: 1280, height: 900 });
  };
  const step = async (name, body) => {
    try {
      await body();
    } catch (e) {
      check(`${lang}: ${name}`, false, e.message.split("\n")[0]);
    }
  };
  const email = `${lang}-${Date.now()}@example.com`;
  let secret = "", codes = [];

  await step("sign up, confirm, sign in", async () => {
    // [email] confirmation_required: the address first, then the sign-in.
    await page.goto(`${base}/register`);
    await page.fill("#email", email);
    await page.fill("#name", lang === "fr" ? "Béatrice" : "Ada");
    await page.fill("#password", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForLoadState();
    check(`${lang}: the page speaks ${lang}`, (await page.getAttribute("html", "lang")) === lang);
    const link = await confirmLink(email);
    check(`${lang}: the confirmation link reached the outbox`, !!link, outbox);
    await page.goto(link.replace(/^https?:\/\/[^/]+/, base));
    await page.click("button[type=submit]");
    await page.waitForLoadState();
    await page.goto(`${base}/account`);
    check(`${lang}: without a session, /account goes to /login`, new URL(page.url()).pathname === "/login");
    await page.fill("#email", email);
    await page.fill("#password", PASSWORD);
    await page.click("form[action='/login'] button[type=submit]");
    await page.waitForURL((u) => u.pathname === "/account");
    check(`${lang}: signing in on /login lands on /account`, true);
    const badge = await page.textContent("#email-h + p");
    check(`${lang}: the address shows as confirmed`, /Confirmed|Confirmée/.test(badge), badge);
    await shot("overview");
    // Sign out from the top bar, and in again.
    await page.click("nav.console form.signout button");
    await page.waitForURL((u) => u.pathname === "/logout");
    await page.goto(`${base}/account`);
    check(`${lang}: signed out, /account goes to /login`, new URL(page.url()).pathname === "/login");
    await page.fill("#email", email);
    await page.fill("#password", PASSWORD);
    await page.click("form[action='/login'] button[type=submit]");
    await page.waitForURL((u) => u.pathname === "/account");
  });

  // A second browser signed in before TOTP: its session stays at aal 1.
  const early = await (await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: lang === "fr" ? "fr-FR" : "en-US",
  })).newPage();
  early.setDefaultTimeout(STEP_MS);
  await step("a second browser signs in", async () => {
    await early.goto(`${base}/login`);
    await early.fill("#email", email);
    await early.fill("#password", PASSWORD);
    await early.click("form[action='/login'] button[type=submit]");
    await early.waitForURL((u) => u.pathname === "/account");
  });

  await step("TOTP from the secret beside the QR code", async () => {
    await page.goto(`${base}/account/security`);
    await shot("security");
    await page.click("form[action='/account/totp'] button");
    await page.waitForSelector(".qr svg");
    secret = (await page.textContent("#totp-secret")).replace(/\s+/g, "");
    check(`${lang}: the QR code is an inline SVG and the secret is shown`, secret.length === 32, secret);
    await shot("totp");
    await page.fill("#code", totp(secret));
    await page.click("form[action='/account/totp/confirm'] button[type=submit]");
    await page.waitForSelector("ul.codes li");
    codes = await page.$$eval("ul.codes li", (l) => l.map((e) => e.textContent.trim()));
    check(`${lang}: TOTP on, ten recovery codes shown once`, codes.length === 10, String(codes.length));
    await shot("codes");
  });

  await step("a session from before TOTP is asked for it above the email form", async () => {
    await early.goto(`${base}/account`);
    const above = await early.evaluate(() => {
      const box = document.querySelector("section.reauth #reauth-code");
      const form = document.querySelector("form[action='/account/email']");
      return !!box && !!form && !!(box.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING);
    });
    check(`${lang}: the aal 1 session gets the code box above the email form`, above);
    await shot("overview-reauth", early);
    // Signed out, so that the sessions page below lists two sessions.
    await early.click("nav.console form.signout button");
    await early.waitForURL((u) => u.pathname === "/logout");
    await early.context().close();
  });

  await step("add a passkey", async () => {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2", transport: "internal", hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    await page.goto(`${base}/account/passkeys/new`);
    await shot("passkey-new");
    await page.fill("#passkey-name", "Laptop");
    await page.click("#go");
    await page.waitForURL((u) => u.pathname === "/account/security" && u.search === "?done=passkey");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    const listed = await page.textContent("main");
    check(`${lang}: the passkey was added and is listed`, credentials.length === 1 && listed.includes("Laptop"));
    await shot("security-done");
    await page.goto(`${base}/account/totp/remove`);
    await shot("totp-remove");
  });

  await step("end a second session", async () => {
    const first = await api("POST", "/v1/auth/login", { email, password: PASSWORD });
    await api("POST", "/v1/auth/mfa", { mfa_token: first.mfa_token, recovery_code: codes[0] });
    await page.goto(`${base}/account/sessions`);
    const rows = await page.$$("tbody tr");
    check(`${lang}: the sessions page lists both sessions`, rows.length === 2, String(rows.length));
    await shot("sessions");
    const other = page.locator("tbody tr", { hasNot: page.locator(".badge") }).locator("a");
    await other.click();
    await page.waitForURL((u) => /\/account\/sessions\/[^/]+\/end$/.test(u.pathname));
    await shot("session-end");
    await page.click("main form button.danger");
    await page.waitForURL((u) => u.search === "?done=session-ended");
    check(`${lang}: one session is left`, (await page.$$("tbody tr")).length === 1);
  });

  await step("allow an app, then revoke it", async () => {
    const c = await api("POST", "/v1/admin/oauth-clients", {
      name: `Wiki ${lang}`, type: "public", redirect_uris: [CALLBACK], scopes: ["openid", "email"],
    }, adminKey);
    const q = new URLSearchParams({
      response_type: "code", client_id: c.client_id, redirect_uri: CALLBACK, scope: "openid email",
      state: "s", nonce: "n", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    });
    await page.goto(`${base}/oauth/authorize?${q}`);
    await page.waitForURL((u) => u.pathname === "/consent");
    await page.click("button[name=decision][value=allow]");
    await page.waitForURL((u) => u.href.startsWith(CALLBACK));
    await page.goto(`${base}/account/connections`);
    check(`${lang}: the app is listed`, (await page.textContent("main")).includes(`Wiki ${lang}`));
    await shot("connections");
    await page.click(`a[href='/account/apps/${c.client_id}/revoke']`);
    await shot("revoke");
    await page.click("main form button.danger");
    await page.waitForURL((u) => u.search === "?done=revoked");
    check(`${lang}: the app is gone`, !(await page.textContent("main")).includes(`Wiki ${lang}`));
  });

  await step("the security log", async () => {
    await page.goto(`${base}/account/activity`);
    const text = await page.textContent("main");
    const want = lang === "fr" ? "Application d’authentification activée" : "Authenticator app turned on";
    check(`${lang}: the security log says what happened, in ${lang}`, text.includes(want));
    await shot("activity");
  });

  check(`${lang}: no request left toktok, no CSP violation, no script error`, problems.length === 0,
    problems.slice(0, 5).join("; "));
  await ctx.close();
}

const browser = await launch();
try {
  if (!adminKey || !outbox) throw new Error("TOKTOK_ADMIN_KEY and OUTBOX_DIR are needed");
  for (const lang of ["en", "fr"]) await run(browser, lang);
} catch (e) {
  check("the account center run", false, e.message);
} finally {
  await browser.close();
  rp.close();
}
checks.finish();
void TIMEOUT_MS;
