// The admin console, /admin (issue 21), in a real headless Chromium:
//
//  1. the admin (made by `toktok user create --role admin`) enrols TOTP
//     through the API, signs in on /login with the password and the code
//     (admins need a second factor), and opens /admin;
//  2. finds a user, disables them and resets their factors (each through
//     its confirmation page), creates an API key (shown once; it works
//     against the API) and an OAuth client (its secret shown once);
//  3. every console page at 1280 and 360 px, in English and in French
//     (a context with locale fr-FR), into SHOTS_DIR (admin-*.png), and
//     axe-core on every page: no serious or critical violation; no
//     request leaves toktok, no CSP violation, no script error.
//
// Usage: ADMIN_EMAIL=… ADMIN_PASSWORD=… SHOTS_DIR=… node admin.mjs http://localhost:PORT
// (run.sh starts the server with [oidc] on and makes the admin.)

import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { axeCheck } from "./axe.mjs";
import { baseUrl, Checks, launch, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("admin.mjs");
const direct = base.replace("//localhost:", "//127.0.0.1:"); // for Node's fetch
const adminEmail = process.env.ADMIN_EMAIL || "";
const adminPassword = process.env.ADMIN_PASSWORD || "";
const shots = process.env.SHOTS_DIR || join(process.cwd(), "screenshots");
mkdirSync(shots, { recursive: true });
const checks = new Checks("browser admin console");
const check = checks.check.bind(checks);

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

// A context in `locale`, every request and report watched.
async function context(browser, locale) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
  await ctx.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith("data:")) problems.push(`request to ${u}`);
  });
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  return { ctx, page, problems, lang: locale.slice(0, 2) };
}

// Screenshots at 1280 and 360 px and the axe check, for the page shown.
async function walk(a, name) {
  for (const width of [1280, 360]) {
    await a.page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await a.page.screenshot({ path: join(shots, `admin-${name}-${width}-${a.lang}.png`), fullPage: true });
  }
  await a.page.setViewportSize({ width: 1280, height: 900 });
  await axeCheck(a.page, `admin ${name} (${a.lang})`, check);
}

// The page's width at 360 px: nothing wider than the phone.
async function fitsPhone(a, name) {
  await a.page.setViewportSize({ width: 360, height: 780 });
  const wide = await a.page.evaluate(() => document.documentElement.scrollWidth);
  await a.page.setViewportSize({ width: 1280, height: 900 });
  check(`${name} (${a.lang}) fits a 360 px phone`, wide <= 362, `scrollWidth ${wide}`);
}

let lastStep = 0;
let secret = "";
// The code of the next unused time step; toktok takes one step of drift,
// so a step further ahead is waited for.
async function nextTotp() {
  lastStep = Math.max(Math.floor(Date.now() / 30_000), lastStep + 1);
  const wait = (lastStep - 1) * 30_000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait + 200));
  return totpAt(secret, lastStep);
}

// Signs the admin in on /login: password, then the TOTP step.
async function signIn(a, signInLabel, continueLabel) {
  await a.page.goto(`${base}/admin`);
  check(`(${a.lang}) /admin without a session sends the browser to /login`,
    new URL(a.page.url()).pathname === "/login", a.page.url());
  await a.page.fill("#email", adminEmail);
  await a.page.fill("#password", adminPassword);
  await a.page.getByRole("button", { name: signInLabel, exact: true }).click();
  await a.page.waitForSelector("#totp");
  await a.page.fill("#totp", await nextTotp());
  await a.page.getByRole("button", { name: continueLabel }).click();
  await a.page.waitForLoadState();
  await a.page.goto(`${base}/admin`);
  check(`(${a.lang}) the admin at aal 2 enters /admin and lands on the users`,
    new URL(a.page.url()).pathname === "/admin/users", a.page.url());
}

let browser;
try {
  if (!adminEmail || !adminPassword) throw new Error("ADMIN_EMAIL and ADMIN_PASSWORD must be set");
  // The admin's TOTP, enrolled through the API (the session may only enrol).
  const first = await api("POST", "/v1/auth/login", { email: adminEmail, password: adminPassword });
  ({ secret } = await api("POST", "/v1/users/me/totp", null, first.access_token));
  lastStep = Math.floor(Date.now() / 30_000);
  await api("POST", "/v1/users/me/totp/confirm", { code: totpAt(secret, lastStep) }, first.access_token);
  // The user the admin will look after, with a TOTP of their own.
  const email = `ada.${Date.now()}@example.com`;
  const reg = await api("POST", "/v1/auth/register", { email, password: `pw-${randomBytes(9).toString("base64url")}` });
  const ada = await api("POST", "/v1/users/me/totp", null, reg.access_token);
  await api("POST", "/v1/users/me/totp/confirm",
    { code: totpAt(ada.secret, Math.floor(Date.now() / 30_000)) }, reg.access_token);
  const adaId = JSON.parse(Buffer.from(reg.access_token.split(".")[1], "base64url")).sub;

  browser = await launch();

  // --- English: the actions --------------------------------------------------
  const en = await context(browser, "en-US");
  await signIn(en, "Sign in", "Continue");
  await walk(en, "users");
  await fitsPhone(en, "the users page");

  await en.page.fill("#q", email);
  await en.page.getByRole("button", { name: "Search" }).click();
  await en.page.getByRole("link", { name: email }).click();
  check("the search finds the user and opens their page",
    new URL(en.page.url()).pathname === `/admin/users/${adaId}`, en.page.url());
  check("the user's page shows their authenticator app on",
    (await en.page.textContent("main")).includes("Authenticator app: on since"));
  await walk(en, "user");
  await fitsPhone(en, "the user's page");

  await en.page.getByRole("link", { name: "Disable account" }).click();
  await walk(en, "confirm");
  await en.page.getByRole("button", { name: "Disable account" }).click();
  check("disabling ends on the user's page with a notice",
    (await en.page.textContent(".notice")).includes("disabled"));
  const after = await fetch(`${direct}/v1/users/me`, { headers: { authorization: `Bearer ${reg.access_token}` } });
  check("the disabled user's session no longer works", after.status === 401, String(after.status));

  await en.page.getByRole("link", { name: "Reset second factors" }).click();
  await en.page.getByRole("button", { name: "Reset second factors" }).click();
  check("resetting the factors turns the authenticator app off",
    (await en.page.textContent("main")).includes("Authenticator app: off"));

  await en.page.getByRole("link", { name: "Audit log" }).click();
  await walk(en, "audit");

  await en.page.getByRole("link", { name: "API keys" }).click();
  await walk(en, "keys");
  await en.page.fill("#key-name", "browser test");
  await en.page.getByRole("checkbox", { name: /^admin/ }).check();
  await en.page.getByRole("button", { name: "Create the key" }).click();
  const key = await en.page.inputValue("#secret");
  check("the new API key is shown once", key.startsWith("tk_"), key.slice(0, 3));
  await walk(en, "key-created");
  const users = await fetch(`${direct}/v1/admin/users`, { headers: { authorization: `Bearer ${key}` } });
  check("the new API key works against the admin API", users.status === 200, String(users.status));

  await en.page.getByRole("link", { name: "OAuth clients" }).click();
  await walk(en, "clients");
  await en.page.fill("#c-name", "Browser Wiki");
  await en.page.fill("#c-redirect", "https://wiki.example.com/callback");
  await en.page.getByRole("button", { name: "Create the client" }).click();
  const clientSecret = await en.page.inputValue("#secret");
  check("the new client's secret is shown once", clientSecret.length >= 40, `${clientSecret.length} characters`);
  await walk(en, "client-created");
  await en.page.getByRole("link", { name: "Done" }).click();
  await walk(en, "client");

  // Webhooks: an endpoint (on toktok itself, which answers 404: the log
  // shows the receiver's answer), its secret, a test event, the log.
  await en.page.getByRole("link", { name: "Webhooks", exact: true }).click();
  await walk(en, "webhooks");
  await en.page.fill("#hook-url", `${direct}/no-such-receiver`);
  await en.page.fill("#hook-description", "Billing service");
  await en.page.getByRole("button", { name: "Add the endpoint" }).click();
  const hookSecret = await en.page.inputValue("#secret");
  check("the new endpoint's signing secret is shown once", hookSecret.startsWith("whsec_"), hookSecret.slice(0, 6));
  await walk(en, "hook-created");
  await en.page.getByRole("link", { name: "Done" }).click();
  await en.page.getByRole("button", { name: "Send a test event" }).click();
  check("the test event is queued", (await en.page.textContent(".notice")).includes("test event"));
  for (let i = 0; i < 40 && !(await en.page.textContent("main")).includes("404"); i++) {
    await new Promise((r) => setTimeout(r, 250));
    await en.page.reload();
  }
  check("the delivery log shows the receiver's answer",
    (await en.page.textContent("main")).includes("webhook.test") && (await en.page.textContent("main")).includes("404"));
  await walk(en, "hook");
  await en.page.getByRole("link", { name: "Rotate the secret" }).click();
  await walk(en, "hook-rotate");
  await en.page.getByRole("button", { name: "Rotate the secret" }).click();
  const rotated = await en.page.inputValue("#secret");
  check("a rotation shows a new secret", rotated.startsWith("whsec_") && rotated !== hookSecret);

  for (const [label, name] of [["Providers", "providers"], ["Mail queue", "mail"], ["Settings", "settings"]]) {
    await en.page.getByRole("link", { name: label, exact: true }).click();
    await walk(en, name);
  }
  check("no request left toktok and no CSP or script error (en)", en.problems.length === 0, en.problems.join("; "));

  // --- French: every page again ------------------------------------------------
  const fr = await context(browser, "fr-FR");
  await signIn(fr, "Se connecter", "Continuer");
  check("the console speaks French", (await fr.page.textContent("h1")).includes("Utilisateurs"));
  await walk(fr, "users");
  await fr.page.goto(`${base}/admin/users/${adaId}`);
  await walk(fr, "user");
  await fr.page.goto(`${base}/admin/users/${adaId}/enable`);
  await walk(fr, "confirm");
  for (const [path, name] of [
    ["/admin/audit", "audit"], ["/admin/api-keys", "keys"], ["/admin/oauth-clients", "clients"],
    ["/admin/providers", "providers"], ["/admin/mail", "mail"], ["/admin/settings", "settings"],
  ]) {
    await fr.page.goto(base + path);
    await walk(fr, name);
  }
  await fr.page.goto(`${base}/admin/webhooks`);
  await walk(fr, "webhooks");
  await fr.page.getByRole("link", { name: /no-such-receiver/ }).click();
  await walk(fr, "hook");
  check("the endpoint page speaks French", (await fr.page.textContent("main")).includes("Envoyer un événement de test"));
  await fr.page.goto(`${base}/admin/api-keys`);
  await fr.page.fill("#key-name", "essai");
  await fr.page.getByRole("checkbox", { name: /^challenges/ }).check();
  await fr.page.getByRole("button", { name: "Créer la clé" }).click();
  await walk(fr, "key-created");
  await fr.page.goto(`${base}/admin/oauth-clients`);
  await fr.page.getByRole("link", { name: "Browser Wiki" }).click();
  await walk(fr, "client");
  await fr.page.getByRole("link", { name: "Nouveau secret" }).click();
  await fr.page.getByRole("button", { name: "Nouveau secret client" }).click();
  await walk(fr, "client-created");
  check("no request left toktok and no CSP or script error (fr)", fr.problems.length === 0, fr.problems.join("; "));
} catch (e) {
  check("the admin console walk-through completes", false, e.stack || String(e));
} finally {
  if (browser) await browser.close();
}
checks.finish();
