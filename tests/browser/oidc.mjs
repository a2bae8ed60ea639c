// toktok's OpenID provider pages in a real headless Chromium (issue 19):
//
//  1. a registered client sends the browser to /oauth/authorize; the user
//     signs in on the hosted /login with a password, then a TOTP code on the
//     second-factor page, allows on /consent, and the browser lands on the
//     client's redirect URI (a tiny local HTTP server) with code, state and
//     iss; the code is exchanged at /oauth/token;
//  2. RP-initiated logout: /oauth/logout's confirmation, then back at the
//     registered post-logout URI with state;
//  3. /register and /login/forgot reached from the links of /login, and an
//     account created on /register continues to the client;
//  4. a user who registered a passkey (through /demo and the DevTools
//     virtual authenticator) signs in through /login/passkey, usernameless;
//  5. the same pages in French (a browser asking for fr-FR), and the
//     landing pages of mailed links in both languages;
//  6. every page at 1280 and 360 px wide into SHOTS_DIR
//     (oidc-<page>-<width>-<lang>.png), axe-core on each (no serious or
//     critical violation); no request leaves toktok's origin (and the
//     client's), no CSP violation (securitypolicyviolation or a console
//     report), no script error.
//
// Usage: TOKTOK_ADMIN_KEY=… SHOTS_DIR=… node oidc.mjs http://localhost:PORT
// (run.sh starts the server: [oidc], totp, webauthn, email codes on, demo).
// A host name, not an IP address: WebAuthn refuses IP addresses.

import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

import { axeCheck } from "./axe.mjs";
import { baseUrl, Checks, launch, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("oidc.mjs");
const direct = base.replace("//localhost:", "//127.0.0.1:"); // for Node's fetch
const adminKey = process.env.TOKTOK_ADMIN_KEY || "";
const shots = process.env.SHOTS_DIR || join(process.cwd(), "screenshots");
mkdirSync(shots, { recursive: true });
const checks = new Checks("browser OIDC pages");
const check = checks.check.bind(checks);
const STEP_MS = 15_000;

// --- RFC 6238, as an authenticator app computes it ----------------------------
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

// --- helpers ---------------------------------------------------------------------
const b64url = (buf) => Buffer.from(buf).toString("base64url");
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

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

// The client's side: a tiny HTTP server the browser is sent back to.
const landed = [];
const rp = createServer((req, res) => {
  landed.push(new URL(req.url, "http://127.0.0.1"));
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end("<!doctype html><title>client</title><p>Back at the client.</p>");
});
await new Promise((r) => rp.listen(0, "127.0.0.1", r));
const rpOrigin = `http://127.0.0.1:${rp.address().port}`;
const CALLBACK = `${rpOrigin}/callback`;
const BYE = `${rpOrigin}/bye`;

// An authorization request: its URL and what to check the answer against.
function authorization(clientId, scope = "openid email profile") {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));
  const q = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: CALLBACK, scope, state, nonce,
    code_challenge: b64url(createHash("sha256").update(verifier).digest()), code_challenge_method: "S256",
  });
  return { url: `${base}/oauth/authorize?${q}`, verifier, state, nonce };
}

async function exchange(c, req, code) {
  const res = await fetch(direct + "/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code, redirect_uri: CALLBACK, code_verifier: req.verifier,
      client_id: c.client_id, client_secret: c.client_secret,
    }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`POST /oauth/token → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// The browser landed on the client: the code, state and iss of the redirect.
async function landedWith(page, req) {
  await page.waitForURL((u) => u.href.startsWith(CALLBACK), { timeout: STEP_MS });
  const u = new URL(page.url());
  const ok = !!u.searchParams.get("code") && u.searchParams.get("state") === req.state &&
    u.searchParams.get("iss") === base;
  return { ok, code: u.searchParams.get("code"), detail: [...u.searchParams.keys()].join(", ") };
}

// A context whose every request and report is watched.
async function context(browser, label, locale = "en-US") {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
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
  page.on("pageerror", (e) => problems.push(`script error on ${page.url()}: ${e}`));
  page.on("console", (m) => {
    const text = m.text();
    const hosted = !new URL(page.url()).pathname.startsWith("/demo");
    if (/Content Security Policy|securitypolicyviolation/i.test(text) || (hosted && m.type() === "error")) {
      problems.push(`console ${m.type()} on ${new URL(page.url()).pathname}: ${text}`);
    }
  });
  return { ctx, page, problems, label };
}

async function shot(page, name, lang = "en") {
  await axeCheck(page, `${name} (${lang})`, check);
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 800 });
    const path = join(shots, `oidc-${name}-${width}-${lang}.png`);
    await page.screenshot({ path, fullPage: true });
    // Nothing wider than the viewport (no sideways scrolling on a phone).
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(`${name} (${lang}) at ${width} px: no horizontal overflow`, wide <= 0, `${wide}px too wide`);
  }
  console.log(`     screenshots: ${join(shots, `oidc-${name}-{1280,360}-${lang}.png`)}`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function part(w, name, body) {
  try {
    await body();
  } catch (e) {
    check(`${w.label}: ${name}`, false, `${e instanceof Error ? e.message.split("\n")[0] : e} (at ${w.page.url()})`);
  }
}

// --- set-up ------------------------------------------------------------------------
let browser;
try {
  if (!adminKey) throw new Error("TOKTOK_ADMIN_KEY is not set");
  const settings = await api("GET", "/v1/settings");
  const off = ["totp", "passkeys", "oidc"].filter((f) => !(settings[f] && settings[f].enabled));
  if (off.length) throw new Error(`off or absent in /v1/settings: ${off.join(", ")}`);
  const wiki = await api("POST", "/v1/admin/oauth-clients", {
    name: "Example Wiki", type: "confidential", redirect_uris: [CALLBACK], post_logout_redirect_uris: [BYE],
  }, adminKey);
  const email = `ada.browser.${Date.now()}@example.com`;
  const password = `browser-${b64url(randomBytes(9))}`;
  const reg = await api("POST", "/v1/auth/register", { email, password });
  const { secret } = await api("POST", "/v1/users/me/totp", null, reg.access_token);
  let lastStep = Math.floor(Date.now() / 30_000);
  await api("POST", "/v1/users/me/totp/confirm", { code: totpAt(secret, lastStep) }, reg.access_token);
  const nextTotp = () => totpAt(secret, (lastStep = Math.max(Math.floor(Date.now() / 30_000), lastStep + 1)));
  // A code of a time step not used yet and not ahead of the clock (waits
  // for the next step when needed: the server takes each step once).
  const freshTotp = async () => {
    while (Math.floor(Date.now() / 30_000) <= lastStep) await new Promise((r) => setTimeout(r, 500));
    return totpAt(secret, (lastStep = Math.floor(Date.now() / 30_000)));
  };

  browser = await launch();

  // 1 and 2. Password + TOTP, consent, the code; logout.
  const a = await context(browser, "password + TOTP");
  await part(a, "sign in, second factor, consent, code", async () => {
    const req = authorization(wiki.client_id);
    await a.page.goto(req.url, { timeout: TIMEOUT_MS });
    check("password + TOTP: /oauth/authorize sends the browser to /login",
      new URL(a.page.url()).pathname === "/login", a.page.url().split("?")[0]);
    await shot(a.page, "login");
    await a.page.fill("#email", email);
    await a.page.fill("#password", password);
    await a.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await a.page.waitForSelector("#totp");
    await shot(a.page, "second-factor");
    await a.page.fill("#totp", nextTotp());
    await a.page.getByRole("button", { name: "Continue" }).click();
    await a.page.waitForURL((u) => u.pathname === "/consent");
    await shot(a.page, "consent");
    await a.page.getByRole("button", { name: "Allow" }).click();
    const back = await landedWith(a.page, req);
    check("password + TOTP: after Allow the browser lands on the client's redirect URI with code, state and iss",
      back.ok, back.detail);
    const t = await exchange(wiki, req, back.code);
    const c = claimsOf(t.id_token);
    check("password + TOTP: the code exchanges; the ID token has the nonce, acr aal2, amr [pwd, otp]",
      c.nonce === req.nonce && c.acr === "aal2" && c.amr.includes("pwd") && c.amr.includes("otp"),
      JSON.stringify({ acr: c.acr, amr: c.amr }));
  });
  await part(a, "RP-initiated logout", async () => {
    const state = b64url(randomBytes(9));
    const q = new URLSearchParams({ client_id: wiki.client_id, post_logout_redirect_uri: BYE, state });
    await a.page.goto(`${base}/oauth/logout?${q}`);
    await shot(a.page, "logout");
    await a.page.getByRole("button", { name: "Sign out" }).click();
    await a.page.waitForURL((u) => u.href.startsWith(BYE));
    check("logout: the confirmation's Sign out lands on the post-logout URI with state",
      new URL(a.page.url()).searchParams.get("state") === state, a.page.url());
    const cookies = await a.ctx.cookies(base);
    check("logout: the browser session cookie is gone", !cookies.some((k) => k.name === "toktok"),
      cookies.map((k) => k.name).join(", "));
  });
  check("password + TOTP: nothing loaded from outside, no CSP report, no script error",
    a.problems.length === 0, a.problems.join(" | "));
  await a.ctx.close();

  // 3. /register and /login/forgot from the links of /login; the passkey
  // page without an authenticator (what a person sees while it waits).
  const b = await context(browser, "register, forgot");
  await part(b, "the other pages", async () => {
    const req = authorization(wiki.client_id);
    await b.page.goto(req.url, { timeout: TIMEOUT_MS });
    await b.page.getByRole("link", { name: "Forgot your password?" }).click();
    await b.page.waitForURL((u) => u.pathname === "/login/forgot");
    await shot(b.page, "forgot");
    await b.page.goBack();
    await b.page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await b.page.waitForURL((u) => u.pathname === "/login/passkey");
    await b.page.waitForTimeout(500);
    await shot(b.page, "passkey");
    check("passkey page without an authenticator: the page says what happened",
      /passkey/i.test(await b.page.textContent("#status")), await b.page.textContent("#status"));
    // (A pending navigator.credentials.get holds the page: start again.)
    await b.page.goto(req.url);
    await b.page.getByRole("link", { name: "Create an account" }).click();
    await b.page.waitForURL((u) => u.pathname === "/register");
    await shot(b.page, "register");
    await b.page.fill("input[name=email]", `new.browser.${Date.now()}@example.com`);
    await b.page.fill("input[name=password]", `browser-${b64url(randomBytes(9))}`);
    await b.page.locator("form[action='/register'] button[type=submit]").first().click();
    await b.page.waitForURL((u) => u.pathname === "/consent" || u.href.startsWith(CALLBACK));
    check("register: an account made on /register continues the client's request (to /consent)",
      new URL(b.page.url()).pathname === "/consent", b.page.url().split("?")[0]);
  });
  check("register, forgot, passkey page: nothing loaded from outside, no CSP report, no script error",
    b.problems.length === 0, b.problems.join(" | "));
  await b.ctx.close();

  // 4. A passkey: registered through /demo with the virtual authenticator,
  // then the hosted /login/passkey, usernameless.
  const p = await context(browser, "passkey");
  await part(p, "passkey sign-in on /login/passkey", async () => {
    const cdp = await p.ctx.newCDPSession(p.page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    await p.page.goto(base + "/demo", { timeout: TIMEOUT_MS });
    await p.page.waitForFunction(() => /on$|characters|required/.test(document.getElementById("settings").textContent));
    await p.page.click("#register");
    await p.page.waitForSelector("#session-info[data-aal]", { state: "attached" });
    await p.page.fill("#passkey-name", "oidc key");
    const added = p.page.waitForResponse((r) => r.request().method() === "POST" &&
      new URL(r.url()).pathname === "/v1/users/me/passkeys");
    await p.page.click("#passkey-add");
    check("passkey: registered through /demo (201)", (await added).status() === 201);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    check("passkey: the authenticator holds one discoverable credential",
      credentials.length === 1 && credentials[0].isResidentCredential);

    const req = authorization(wiki.client_id);
    await p.page.goto(req.url);
    check("passkey: /demo's API sign-in is no browser session: /oauth/authorize shows /login",
      new URL(p.page.url()).pathname === "/login");
    const posted = p.page.waitForResponse((r) => r.request().method() === "POST" &&
      new URL(r.url()).pathname === "/login/passkey");
    await p.page.getByRole("button", { name: "Sign in with a passkey" }).click();
    const answer = await posted;
    check("passkey: /login/passkey ran navigator.credentials.get and posted the credential (303)",
      answer.status() === 303, `${answer.status()}`);
    await p.page.waitForURL((u) => u.pathname === "/consent");
    await p.page.getByRole("button", { name: "Allow" }).click();
    const back = await landedWith(p.page, req);
    check("passkey: after Allow the browser lands on the redirect URI with code, state and iss", back.ok, back.detail);
    const c = claimsOf((await exchange(wiki, req, back.code)).id_token);
    check("passkey: the ID token says aal2, amr with user verification",
      c.acr === "aal2" && c.amr.includes("user") && (c.amr.includes("hwk") || c.amr.includes("swk")),
      JSON.stringify({ acr: c.acr, amr: c.amr }));
  });
  check("passkey: nothing loaded from outside, no CSP violation on /login/passkey, no script error",
    p.problems.length === 0, p.problems.join(" | "));
  await p.ctx.close();

  // 5. In French: a browser asking for fr-FR gets every page in French,
  // and so do the landing pages of mailed links (in both languages).
  const f = await context(browser, "français", "fr-FR");
  await part(f, "the pages in French", async () => {
    // A client this user has not allowed yet, so /consent is shown.
    const atelier = await api("POST", "/v1/admin/oauth-clients", {
      name: "L'Atelier", type: "confidential", redirect_uris: [CALLBACK],
    }, adminKey);
    const req = authorization(atelier.client_id);
    await f.page.goto(req.url, { timeout: TIMEOUT_MS });
    check("fr: /login is in French", (await f.page.getAttribute("html", "lang")) === "fr" &&
      /Connexion/.test(await f.page.title()), await f.page.title());
    await shot(f.page, "login", "fr");
    await f.page.goto(`${base}/login/forgot?flow=`);
    await shot(f.page, "forgot", "fr");
    await f.page.goto(`${base}/register?flow=`);
    await shot(f.page, "register", "fr");
    await f.page.goto(req.url);
    await f.page.fill("#email", email);
    await f.page.fill("#password", password);
    await f.page.locator("form[action='/login'] button[type=submit]").first().click();
    await f.page.waitForSelector("#totp");
    await shot(f.page, "second-factor", "fr");
    await f.page.fill("#totp", await freshTotp());
    await f.page.locator("#totp").press("Enter");
    await f.page.waitForURL((u) => u.pathname === "/consent");
    await shot(f.page, "consent", "fr");
    await f.page.goto(`${base}/logout`);
    await shot(f.page, "logout", "fr");
    const en = await context(browser, "mailed links", "en-US");
    for (const [lang, page] of [["en", en.page], ["fr", f.page]]) {
      for (const [name, path] of [
        ["confirm-email", "/v1/auth/confirm-email?token=example"],
        ["reset-password", "/v1/auth/password/reset?token=example"],
        ["email-code-link", "/v1/auth/email-code/verify?token=example"],
      ]) {
        await page.goto(base + path);
        await shot(page, name, lang);
      }
    }
    check("mailed links' pages: nothing loaded from outside, no CSP report, no script error",
      en.problems.length === 0, en.problems.join(" | "));
    await en.ctx.close();
  });
  check("français: nothing loaded from outside, no CSP report, no script error",
    f.problems.length === 0, f.problems.join(" | "));
  await f.ctx.close();
} catch (err) {
  check("the OIDC browser test ran to the end", false, err instanceof Error ? err.message : String(err));
} finally {
  await browser?.close().catch(() => {});
  rp.close();
}

checks.finish();
