// toktok as an OpenID provider through panva's `openid-client` (v6, the
// certified relying party), issue 19. Against a live toktok (TOKTOK_URL,
// TOKTOK_ADMIN_KEY: run by tests/interop/oidc.sh), with the hosted pages
// filled as a browser without JavaScript would (form posts, a cookie jar,
// redirects followed by hand so each hop is checked):
//
//  1. discovery; a confidential client (client_secret_basic); a user with
//     TOTP (otpauth reads the otpauth:// URI and makes the codes);
//  2. authorize with PKCE S256, state and nonce → /login → password → the
//     second-factor page → /consent allow → the redirect with code, state
//     and iss; authorizationCodeGrant (the library checks iss in the
//     response per RFC 9207, state, PKCE, and the ID token: signature by
//     the JWKS, iss, aud, nonce, exp); fetchUserInfo; refreshTokenGrant;
//     tokenIntrospection; tokenRevocation;
//  3. SSO: a public client (none) gets a code straight from
//     /oauth/authorize, no page; after POST /v1/auth/logout-all the next
//     authorize shows /login again and its refresh token is refused;
//  4. signed in again (a recovery code this time), RP-initiated logout
//     through buildEndSessionUrl and the confirmation form: back at the
//     registered post-logout URI with state, the session gone.
//
// Prints "N passed, N failed" last; exits non-zero on any failure.

import { readFileSync } from "node:fs";
import * as client from "openid-client";
import * as OTPAuth from "otpauth";

const base = (process.env.TOKTOK_URL || "").replace(/\/+$/, "");
const adminKey = process.env.TOKTOK_ADMIN_KEY || "";
if (!base || !adminKey) {
  console.error("usage: TOKTOK_URL=… TOKTOK_ADMIN_KEY=… node oidc_client.mjs");
  process.exit(2);
}
const version = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version;
console.log(`openid-client ${version("openid-client")} (oauth4webapi ${version("oauth4webapi")}, jose ${version("jose")}), otpauth ${version("otpauth")}, node ${process.version}`);

let passed = 0, failed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} openid-client: ${name}${detail ? " — " + detail : ""}`);
  return ok;
}
function finish() {
  console.log(`openid-client: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
// A library error, with what the server said when it said something.
function describe(e) {
  if (!(e instanceof Error)) return String(e);
  const parts = [`${e.name}: ${e.message}`];
  if (e.code) parts.push(`code ${e.code}`);
  if (e.error) parts.push(`error ${e.error}`);
  if (e.error_description) parts.push(e.error_description);
  if (e.status) parts.push(`status ${e.status}`);
  if (e.cause && typeof e.cause === "object") parts.push(`cause ${JSON.stringify(e.cause).slice(0, 400)}`);
  return parts.join("; ");
}

// --- the JSON API (set-up only: users, TOTP, clients) -------------------------
async function api(method, path, body, token) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) {}
  return { status: res.status, json, text };
}
async function expectApi(what, status, p) {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

// --- a browser without JavaScript ------------------------------------------------
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const unescape = (s) => s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) =>
  e[0] === "#" ? String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
    : ENTITIES[e.toLowerCase()] ?? m);
const attr = (tag, name) => {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`, "i"));
  return m ? unescape(m[1]) : null;
};

class Browser {
  constructor() { this.jar = new Map(); this.hops = []; }

  async request(method, url, form) {
    const target = new URL(url, base);
    const headers = {};
    if (target.origin === base && this.jar.size) {
      headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    }
    let body;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(target, { method, headers, body, redirect: "manual" });
    if (target.origin === base) {
      for (const c of res.headers.getSetCookie()) {
        const [pair, ...attrs] = c.split(";");
        const at = pair.indexOf("=");
        const [k, v] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
        if (!v || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.jar.delete(k);
        else this.jar.set(k, v);
      }
    }
    const location = res.headers.get("location");
    const page = {
      status: res.status,
      location: location ? new URL(location, target).href : null,
      body: await res.text(),
      url: target.href,
      headers: res.headers,
    };
    this.hops.push(`${method} ${target.pathname} → ${res.status}${location ? " " + location.split("?")[0] : ""}`);
    return page;
  }

  get(url) { return this.request("GET", url); }

  // The form of `page` posting to `action`: its hidden fields plus `fill`,
  // sent as a browser would (the submit button's name=value included).
  async submit(page, action, fill = {}) {
    for (const m of page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
      if (attr(m[1], "action") !== action) continue;
      const fields = {};
      for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
        const name = attr(input[0], "name");
        if (name && attr(input[0], "type") === "hidden") fields[name] = attr(input[0], "value") ?? "";
      }
      return this.request((attr(m[1], "method") || "get").toUpperCase(), action, { ...fields, ...fill });
    }
    throw new Error(`no form posting to ${action} on ${page.url} (${page.status}): ${page.body.slice(0, 400)}`);
  }
}

function expectRedirect(page, prefix, what) {
  if (page.status !== 303 || !page.location || !page.location.startsWith(prefix)) {
    throw new Error(`${what}: expected 303 to ${prefix}…, got ${page.status} ${page.location ?? ""} ${page.location ? "" : page.body.slice(0, 400)}`);
  }
  return page.location;
}

// Runs one named part; a thrown error is a failed check.
async function part(name, body) {
  try {
    await body();
  } catch (e) {
    check(name, false, describe(e));
  }
}

// --- set-up ---------------------------------------------------------------------
const REDIRECT_A = "http://127.0.0.1:9/oidc-client/a/callback";
const REDIRECT_B = "http://127.0.0.1:9/oidc-client/b/callback";
const BYE = "http://127.0.0.1:9/oidc-client/bye";
const EMAIL = `ada.openid-client.${Date.now()}@example.com`;
const PASSWORD = `openid-client-${Math.random().toString(36).slice(2)}-pw`;
const execute = [client.allowInsecureRequests]; // plain http on loopback: a test server

let confidential, spa, totp, recovery, lastStep;
try {
  confidential = await expectApi("create the confidential client", 201, api("POST", "/v1/admin/oauth-clients", {
    name: "openid-client confidential", type: "confidential", redirect_uris: [REDIRECT_A],
    post_logout_redirect_uris: [BYE], scopes: ["openid", "profile", "email", "offline_access"],
  }, adminKey));
  spa = await expectApi("create the public client", 201, api("POST", "/v1/admin/oauth-clients", {
    name: "openid-client public", type: "public", redirect_uris: [REDIRECT_B], skip_consent: true,
    scopes: ["openid", "email", "offline_access"],
  }, adminKey));
  const registered = await expectApi("register", 201, api("POST", "/v1/auth/register", { email: EMAIL, password: PASSWORD }));
  const begun = await expectApi("begin TOTP", 200, api("POST", "/v1/users/me/totp", null, registered.access_token));
  totp = OTPAuth.URI.parse(begun.otpauth_uri);
  check("otpauth parses the otpauth:// URI (TOTP, SHA1, 6 digits, 30 s, the shown secret)",
    totp instanceof OTPAuth.TOTP && totp.algorithm === "SHA1" && totp.digits === 6 && totp.period === 30 &&
      totp.secret.base32 === begun.secret, begun.otpauth_uri.split("?")[0]);
  lastStep = totp.counter();
  const confirmed = await expectApi("confirm TOTP", 200, api("POST", "/v1/users/me/totp/confirm",
    { code: totp.generate({ timestamp: lastStep * 30_000 }) }, registered.access_token));
  recovery = confirmed.recovery_codes;
} catch (e) {
  check("set-up: two clients, a user with TOTP", false, describe(e));
  finish();
}

// The next TOTP code no step of which was used yet (toktok takes one step
// of drift; a step verifies once).
function nextTotp() {
  lastStep = Math.max(totp.counter(), lastStep + 1);
  return totp.generate({ timestamp: lastStep * 30_000 });
}

// --- 1. discovery ---------------------------------------------------------------
let config, publicConfig;
await part("discovery", async () => {
  config = await client.discovery(new URL(base), confidential.client_id, confidential.client_secret,
    client.ClientSecretBasic(confidential.client_secret), { execute });
  const m = config.serverMetadata();
  check("discovery: issuer is the public URL, S256 only, RFC 9207 iss supported",
    m.issuer === base && JSON.stringify(m.code_challenge_methods_supported) === '["S256"]' &&
      m.authorization_response_iss_parameter_supported === true && m.supportsPKCE("S256"),
    `issuer ${m.issuer}`);
  publicConfig = await client.discovery(new URL(base), spa.client_id, { token_endpoint_auth_method: "none" },
    client.None(), { execute });
  check("discovery: a second Configuration for the public client (auth none)", !!publicConfig.serverMetadata().token_endpoint);
});
if (!config || !publicConfig) finish();

// An authorization request of `cfg`: its URL and the checks to verify its answer.
async function authorization(cfg, redirect_uri, scope, extra = {}) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const expectedNonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri, scope, state: expectedState, nonce: expectedNonce,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: "S256", ...extra,
  });
  return { url, checks: { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true } };
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

// --- 2. the full flow with the confidential client --------------------------------
const browser = new Browser();
let tokens, sub;
await part("sign-in, second factor, consent, code exchange", async () => {
  const req = await authorization(config, REDIRECT_A, "openid profile email offline_access");
  const start = await browser.get(req.url);
  const loginUrl = expectRedirect(start, `${base}/login?flow=`, "GET /oauth/authorize");
  const login = await browser.get(loginUrl);
  check("GET /login: 200, the form names the client",
    login.status === 200 && login.body.includes("openid-client confidential"), `${login.status}`);
  const step = await browser.submit(login, "/login", { email: EMAIL, password: PASSWORD });
  check("POST /login with the password: the second-factor page (200), no session cookie yet",
    step.status === 200 && /name="mfa_token"/.test(step.body) && !browser.jar.has("toktok"), `${step.status}`);
  const afterMfa = await browser.submit(step, "/login/mfa", { totp: nextTotp() });
  const consentUrl = expectRedirect(afterMfa, `${base}/consent?flow=`, "POST /login/mfa");
  check("POST /login/mfa with otpauth's code: 303 to /consent, the browser session cookie set",
    browser.jar.has("toktok"));
  const consent = await browser.get(consentUrl);
  const done = await browser.submit(consent, "/consent", { decision: "allow" });
  const back = expectRedirect(done, REDIRECT_A + "?", "POST /consent allow");
  const params = new URL(back).searchParams;
  check("consent allow: 303 to the redirect URI with code, state and iss",
    !!params.get("code") && params.get("state") === req.checks.expectedState && params.get("iss") === base,
    `${[...params.keys()].join(", ")}`);
  tokens = await client.authorizationCodeGrant(config, new URL(back), req.checks);
  const c = tokens.claims();
  sub = c.sub;
  check("authorizationCodeGrant: the library accepted the response (iss, state, PKCE) and the ID token (JWKS signature, iss, aud, nonce, exp)",
    c.iss === base && c.aud === confidential.client_id && c.nonce === req.checks.expectedNonce &&
      tokens.token_type.toLowerCase() === "bearer" && !!tokens.refresh_token,
    JSON.stringify({ alg: JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url")).alg, acr: c.acr, amr: c.amr }));
  check("ID token: acr aal2 and amr [pwd, otp] after password + TOTP on the page",
    c.acr === "aal2" && c.amr?.includes("pwd") && c.amr?.includes("otp") && c.email === EMAIL, JSON.stringify({ acr: c.acr, amr: c.amr }));
});

await part("userinfo, refresh, introspection, revocation", async () => {
  if (!tokens) throw new Error("no tokens (the sign-in failed)");
  const info = await client.fetchUserInfo(config, tokens.access_token, sub);
  check("fetchUserInfo: sub matches the ID token, email and profile claims",
    info.sub === sub && info.email === EMAIL && info.email_verified !== undefined && "updated_at" in info,
    JSON.stringify(Object.keys(info)));
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check("refreshTokenGrant: a new access and refresh token (rotated), a fresh valid ID token",
    refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token &&
      refreshed.access_token !== tokens.access_token && refreshed.claims()?.sub === sub);
  const active = await client.tokenIntrospection(config, refreshed.access_token);
  check("tokenIntrospection: the new access token is active, for this client",
    active.active === true && active.client_id === confidential.client_id && active.sub === sub, JSON.stringify(active).slice(0, 200));
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: "refresh_token" });
  let refused = null;
  try { await client.refreshTokenGrant(config, refreshed.refresh_token); } catch (e) { refused = e; }
  check("tokenRevocation: the revoked refresh token is refused (invalid_grant)",
    refused instanceof client.ResponseBodyError && refused.error === "invalid_grant", refused ? describe(refused) : "accepted");
  const after = await client.tokenIntrospection(config, refreshed.access_token);
  check("after revocation the session's access token introspects inactive", after.active === false, JSON.stringify(after));
});

// --- 3. SSO with the public client, then logout-all ---------------------------------
await part("SSO with a second (public) client, then logout-all", async () => {
  const req = await authorization(publicConfig, REDIRECT_B, "openid email offline_access");
  const start = await browser.get(req.url);
  const back = expectRedirect(start, REDIRECT_B + "?", "GET /oauth/authorize with the browser session");
  check("SSO: /oauth/authorize answers the public client straight with a code (no page)",
    new URL(back).searchParams.has("code"), browser.hops.at(-1));
  const spaTokens = await client.authorizationCodeGrant(publicConfig, new URL(back), req.checks);
  check("public client (none): code exchange with the PKCE verifier alone, ID token accepted",
    spaTokens.claims().sub === sub && spaTokens.claims().aud === spa.client_id && !!spaTokens.refresh_token);

  const login = await expectApi("POST /v1/auth/login", 200, api("POST", "/v1/auth/login", { email: EMAIL, password: PASSWORD }));
  const own = login.mfa_required
    ? await expectApi("POST /v1/auth/mfa", 200, api("POST", "/v1/auth/mfa", { mfa_token: login.mfa_token, recovery_code: recovery.shift() }))
    : login;
  const out = await api("POST", "/v1/auth/logout-all", null, own.access_token);
  check("POST /v1/auth/logout-all with a first-party token of the same user", out.status < 300, `${out.status}`);
  const again = await browser.get((await authorization(config, REDIRECT_A, "openid email")).url);
  check("after logout-all: /oauth/authorize asks for the login page again",
    again.status === 303 && again.location?.startsWith(`${base}/login?flow=`), `${again.status} ${again.location?.split("?")[0]}`);
  let refused = null;
  try { await client.refreshTokenGrant(publicConfig, spaTokens.refresh_token); } catch (e) { refused = e; }
  check("after logout-all: the public client's refresh token is refused (invalid_grant)",
    refused instanceof client.ResponseBodyError && refused.error === "invalid_grant", refused ? describe(refused) : "accepted");
  let userinfo = null;
  try { await client.fetchUserInfo(publicConfig, spaTokens.access_token, sub); } catch (e) { userinfo = e; }
  check("after logout-all: its access token is refused at userinfo", userinfo !== null, userinfo ? describe(userinfo) : "accepted");
});

// --- 4. RP-initiated logout ---------------------------------------------------------
await part("RP-initiated logout", async () => {
  const req = await authorization(config, REDIRECT_A, "openid email offline_access");
  const login = await browser.get(expectRedirect(await browser.get(req.url), `${base}/login?flow=`, "authorize"));
  const step = await browser.submit(login, "/login", { email: EMAIL, password: PASSWORD });
  // Consent was given: straight back to the client after the second factor.
  const back = expectRedirect(await browser.submit(step, "/login/mfa", { recovery_code: recovery.shift() }),
    REDIRECT_A + "?", "POST /login/mfa with a recovery code");
  const t = await client.authorizationCodeGrant(config, new URL(back), req.checks);
  check("signed in again (recovery code on the second-factor page; consent remembered)", !!t.id_token);
  const state = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: t.id_token, post_logout_redirect_uri: BYE, state,
  });
  check("buildEndSessionUrl uses the discovered end_session_endpoint",
    endSession.origin + endSession.pathname === `${base}/oauth/logout`, endSession.pathname);
  const confirm = await browser.get(endSession.href);
  check("GET /oauth/logout: a confirmation page (200) naming the client",
    confirm.status === 200 && confirm.body.includes("openid-client confidential"), `${confirm.status}`);
  const done = await browser.submit(confirm, "/logout");
  const bye = expectRedirect(done, BYE, "POST /logout");
  check("POST /logout: 303 to the registered post-logout URI with state, the cookie cleared",
    new URL(bye).searchParams.get("state") === state && !browser.jar.has("toktok"), bye);
  let refused = null;
  try { await client.refreshTokenGrant(config, t.refresh_token); } catch (e) { refused = e; }
  check("after the logout its refresh token is refused", refused?.error === "invalid_grant", refused ? describe(refused) : "accepted");
  const again = await browser.get((await authorization(config, REDIRECT_A, "openid")).url);
  check("after the logout /oauth/authorize asks for the login page",
    again.location?.startsWith(`${base}/login?flow=`), `${again.status} ${again.location?.split("?")[0]}`);
});

if (failed) console.log(`openid-client: the browser's hops:\n  ${browser.hops.join("\n  ")}`);
finish();
