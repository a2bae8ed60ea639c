// toktok.js — the client of a toktok server, for browsers and Node 20+.
// One ES module, no dependencies; served by toktok at /sdk/toktok.js.
// Types: toktok.d.ts. Guide: clients/js/README.md.
//
//   import { createClient } from "https://auth.example.com/sdk/toktok.js";
//   const auth = createClient({ url: "https://auth.example.com" });
//   await auth.signIn({ email, password });
//   const token = await auth.getAccessToken(); // refreshed when due
//
// Refreshes rotate the refresh token and toktok treats a rotated token
// presented again as theft (reuse detection). So with storage shared by
// the tabs of an origin ("local"), one refresh runs at a time across all
// of them (Web Locks, else a BroadcastChannel lock), and a tab that waited
// rereads the tokens another tab just stored instead of refreshing again.

const VERSION = "1";
const utf8 = new TextEncoder();

/** Every failure: a problem from the server (`status` ≥ 400, its `code`),
 *  or one found here (`status` 0: `network_error`, `passkeys_unsupported`,
 *  `not_signed_in`, `bad_answer`). */
export class TokTokError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || problem.code || `HTTP ${status}`);
    this.name = "TokTokError";
    this.status = status;
    this.code = problem.code || (status ? "http_" + status : "client_error");
    this.title = problem.title || null;
    this.detail = problem.detail || null;
    /** Field errors of a 422: [{field, message}]. */
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    /** Seconds to wait, for 429 and 503. */
    this.retryAfter = problem.retry_after ?? null;
    this.problem = problem;
  }
}

const fail = (code, detail) => new TokTokError(0, { code, detail });

function memoryStorage() {
  const items = new Map();
  return {
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

function pickStorage(storage) {
  if (storage === undefined || storage === "memory") return { store: memoryStorage(), shared: false };
  if (storage === "local") {
    if (typeof localStorage === "undefined") throw fail("storage_unavailable", "localStorage is not available here");
    return { store: localStorage, shared: true };
  }
  if (storage && typeof storage.getItem === "function" && typeof storage.setItem === "function" &&
      typeof storage.removeItem === "function") {
    return { store: storage, shared: !!storage.shared };
  }
  throw fail("bad_option", "storage: \"memory\", \"local\" or {getItem, setItem, removeItem}");
}

const b64url = (bytes) => {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};
const fromB64url = (text) => {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
};

/** JWE compact, RSA-OAEP-256 + A256GCM (RFC 7516), of a JSON body. */
async function encryptJwe(payload, rsa) {
  const header = { alg: "RSA-OAEP-256", enc: "A256GCM" };
  if (rsa.kid) header.kid = rsa.kid;
  const protectedHeader = b64url(utf8.encode(JSON.stringify(header)));
  const cek = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const aes = await crypto.subtle.importKey("raw", cek, { name: "AES-GCM" }, false, ["encrypt"]);
  const sealed = new Uint8Array(await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8.encode(protectedHeader), tagLength: 128 },
    aes, utf8.encode(JSON.stringify(payload))));
  const wrapped = await crypto.subtle.encrypt({ name: "RSA-OAEP" }, rsa.key, cek);
  cek.fill(0);
  return [protectedHeader, b64url(wrapped), b64url(iv),
    b64url(sealed.slice(0, -16)), b64url(sealed.slice(-16))].join(".");
}

/** SHA-256 of a token, in hex: how a spent token is named across tabs. */
async function tokenId(token) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(token)));
  return Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** One refresh at a time across the tabs of an origin, and a record of the
 *  refresh tokens spent by any tab.
 *
 *  The record matters because storage shared by tabs is not updated
 *  everywhere at once: a tab can take the lock right after another tab
 *  rotated the tokens and still read the old ones. Under Web Locks a tab
 *  that spends a refresh token holds a lock named after it for a minute;
 *  `navigator.locks.query()` answers from the browser's one lock manager,
 *  so the next tab learns the token is spent and waits for the new tokens
 *  to reach its storage instead of presenting the old one (which toktok
 *  would take for theft). */
function crossTabLock(name) {
  const locks = typeof navigator !== "undefined" && navigator.locks;
  if (locks && typeof locks.request === "function") {
    return {
      run: (fn) => locks.request(name, fn),
      spend: async (token) => {
        const mark = name + ":spent:" + await tokenId(token);
        await new Promise((granted) => {
          locks.request(mark, () => {
            granted();
            return new Promise((release) => setTimeout(release, 60_000));
          }).catch(() => granted());
        });
      },
      spent: async (token) => {
        const mark = name + ":spent:" + await tokenId(token);
        const { held = [] } = await locks.query();
        return held.some((lock) => lock.name === mark);
      },
    };
  }
  const none = { run: (fn) => fn(), spend: async () => {}, spent: async () => false };
  if (typeof BroadcastChannel === "undefined") return none;
  // Fallback: announce, wait a moment for anyone ahead, take turns by
  // (time, id); a holder that vanished is passed after 10 s. Spent tokens
  // are announced on the channel too.
  const channel = new BroadcastChannel(name);
  const me = Math.random().toString(36).slice(2);
  const ahead = new Map(); // id -> time announced
  const spentIds = new Set();
  let holding = false;
  let wake = () => {};
  channel.onmessage = ({ data }) => {
    if (!data || data.id === me) return;
    if (data.t === "want" || data.t === "held") ahead.set(data.id, data.at);
    if (data.t === "released") ahead.delete(data.id);
    if (data.t === "spent") spentIds.add(data.token);
    if (data.t === "want" && holding) channel.postMessage({ t: "held", id: me, at: 0 });
    wake();
  };
  const sleep = (ms) => new Promise((r) => { const t = setTimeout(r, ms); wake = () => { clearTimeout(t); r(); }; });
  return {
    run: async (fn) => {
      const at = Date.now();
      channel.postMessage({ t: "want", id: me, at });
      await sleep(30);
      const started = Date.now();
      for (;;) {
        const before = [...ahead].filter(([id, t]) => t < at || (t === at && id < me));
        if (before.length === 0 || Date.now() - started > 10_000) break;
        await sleep(250);
      }
      holding = true;
      channel.postMessage({ t: "held", id: me, at: 0 });
      try {
        return await fn();
      } finally {
        holding = false;
        channel.postMessage({ t: "released", id: me });
      }
    },
    spend: async (token) => {
      const id = await tokenId(token);
      spentIds.add(id);
      channel.postMessage({ t: "spent", id: me, token: id });
    },
    spent: async (token) => spentIds.has(await tokenId(token)),
  };
}

/** A client of the toktok server at `url`. */
export function createClient(options = {}) {
  return new TokTokClient(options);
}

export class TokTokClient {
  #url; #fetch; #store; #shared; #key; #margin; #lock;
  #settings = null; #anonymous = null; #rsa = null;
  #inflight = null; #listeners = new Set(); #last = undefined; #channel = null;

  constructor({ url, storage, fetch: fetchImpl, refreshMargin = 30, lock = true } = {}) {
    if (!url && typeof location !== "undefined") url = location.origin;
    if (!url) throw fail("bad_option", "url: the toktok server, e.g. https://auth.example.com");
    this.#url = String(url).replace(/\/+$/, "");
    this.#fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    ({ store: this.#store, shared: this.#shared } = pickStorage(storage));
    this.#key = "toktok:" + VERSION + ":" + this.#url;
    this.#margin = refreshMargin * 1000;
    this.#lock = this.#shared && lock ? crossTabLock("toktok-refresh:" + this.#url)
      : { run: (fn) => fn(), spend: async () => {}, spent: async () => false };
    if (this.#shared && typeof BroadcastChannel !== "undefined") {
      this.#channel = new BroadcastChannel("toktok-auth:" + this.#url);
      this.#channel.onmessage = () => this.#announce();
    }
    if (this.#shared && typeof addEventListener === "function") {
      addEventListener("storage", (e) => { if (e.key === this.#key) this.#announce(); });
    }
  }

  // --- storage and events ----------------------------------------------

  async #load() {
    const text = await this.#store.getItem(this.#key);
    if (!text) return null;
    try { return JSON.parse(text); } catch { return null; }
  }

  async #save(session, event) {
    if (session) await this.#store.setItem(this.#key, JSON.stringify(session));
    else await this.#store.removeItem(this.#key);
    if (this.#channel) this.#channel.postMessage(event);
    this.#emit(event, session);
  }

  async #announce() {
    const session = await this.#load();
    const event = !session ? "SIGNED_OUT" : this.#last && this.#last.user?.id === session.user?.id
      ? "TOKEN_REFRESHED" : "SIGNED_IN";
    this.#emit(event, session);
  }

  #emit(event, session) {
    this.#last = session;
    for (const listener of this.#listeners) {
      try { listener(event, session && { user: session.user, expiresAt: session.expires_at }); } catch { /* a listener's own error */ }
    }
  }

  /** `listener(event, session)` on SIGNED_IN, SIGNED_OUT, TOKEN_REFRESHED,
   *  USER_UPDATED (in every tab sharing the storage). Returns the
   *  function that stops it. */
  onAuthStateChange(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // --- HTTP --------------------------------------------------------------

  async #call(method, path, { json, jose, bearer } = {}) {
    const headers = { accept: "application/json" };
    let body;
    if (bearer) headers.authorization = "Bearer " + bearer;
    if (jose !== undefined) { headers["content-type"] = "application/jose"; body = jose; }
    else if (json !== undefined) { headers["content-type"] = "application/json"; body = JSON.stringify(json); }
    let response;
    try {
      response = await this.#fetch(this.#url + path, { method, headers, body, credentials: "omit", cache: "no-store" });
    } catch (e) {
      throw fail("network_error", String(e && e.message || e));
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = { detail: text }; }
    }
    if (!response.ok) {
      const problem = data || {};
      if (problem.retry_after == null && response.headers.get("retry-after")) {
        problem.retry_after = Number(response.headers.get("retry-after"));
      }
      throw new TokTokError(response.status, problem);
    }
    return data;
  }

  /** GET /v1/settings, once. */
  async settings() {
    if (!this.#settings) this.#settings = await this.#call("GET", "/v1/settings");
    return this.#settings;
  }

  async #anonymousToken() {
    if (this.#anonymous && Date.now() < this.#anonymous.until - 30_000) return this.#anonymous.token;
    const answer = await this.#call("POST", "/v1/auth/anonymous");
    this.#anonymous = { token: answer.access_token, until: Date.now() + answer.expires_in * 1000, key: answer.public_key };
    return answer.access_token;
  }

  async #rsaKey() {
    if (this.#rsa) return this.#rsa;
    const info = (this.#anonymous && this.#anonymous.key) || await this.#call("GET", "/v1/auth/public-key");
    if (info.alg !== "RSA-OAEP-256" || info.enc !== "A256GCM") throw fail("bad_answer", "unexpected key algorithms");
    const key = await crypto.subtle.importKey("jwk", { kty: "RSA", n: info.jwk.n, e: info.jwk.e },
      { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
    this.#rsa = { kid: info.kid || info.jwk.kid || null, key };
    return this.#rsa;
  }

  /** A POST to a route that takes an anonymous token (the contract's (A),
   *  unless `bearer` is given) and, with `encrypt`, a JWE body (E), as
   *  /v1/settings says; retried once with a fresh token and key when
   *  either ran out. */
  async #post(path, payload, { bearer, encrypt = false } = {}, isRetry = false) {
    const settings = await this.settings();
    const options = {};
    if (bearer) options.bearer = bearer;
    else if (settings.anonymous && settings.anonymous.enabled) options.bearer = await this.#anonymousToken();
    if (encrypt && settings.rsa && settings.rsa.enabled) options.jose = await encryptJwe(payload, await this.#rsaKey());
    else options.json = payload;
    try {
      return await this.#call("POST", path, options);
    } catch (e) {
      const curable = e.code === "anonymous_token_required" || e.code === "invalid_encryption";
      if (isRetry || !curable) throw e;
      this.#anonymous = null;
      this.#rsa = null;
      return this.#post(path, payload, { bearer, encrypt }, true);
    }
  }

  /** Keeps a token response, or hands back an MFA step. */
  async #signedIn(answer) {
    if (answer && answer.mfa_required) {
      return { mfa: { token: answer.mfa_token, factors: answer.factors || [], expiresIn: answer.expires_in }, user: null };
    }
    if (!answer || !answer.access_token) return { user: answer && answer.user, mfa: null, ...answer };
    await this.#save(this.#session(answer), "SIGNED_IN");
    return { user: answer.user, mfa: null };
  }

  #session(answer) {
    const now = Date.now();
    const lifetime = answer.expires_in * 1000;
    return {
      access_token: answer.access_token,
      refresh_token: answer.refresh_token,
      expires_at: now + lifetime,
      // Due `refreshMargin` before expiry, but never in the first half of
      // a short token's life.
      refresh_at: now + Math.max(lifetime - this.#margin, lifetime / 2),
      user: answer.user,
    };
  }

  #due(session) {
    return Date.now() >= (session.refresh_at ?? session.expires_at - this.#margin);
  }

  // --- tokens ------------------------------------------------------------

  /** The access token, refreshed first when it expires within
   *  `refreshMargin` seconds; null when signed out. */
  async getAccessToken() {
    const session = await this.#load();
    if (!session) return null;
    if (!this.#due(session)) return session.access_token;
    return this.refresh(session.refresh_token);
  }

  /** Refreshes now (one at a time in this tab, and across tabs sharing
   *  the storage). Answers the new access token; null when signed out. */
  refresh(seen) {
    if (this.#inflight) return this.#inflight;
    this.#inflight = (async () => {
      try {
        return await this.#lock.run(async () => {
          let session = await this.#load();
          if (!session) return null;
          // Another tab refreshed while this one waited: use its tokens.
          if (seen && session.refresh_token !== seen && !this.#due(session)) {
            return session.access_token;
          }
          // Another tab spent these tokens, and its new ones have not
          // reached this tab's storage yet: wait for them.
          if (await this.#lock.spent(session.refresh_token)) {
            const spent = session.refresh_token;
            const until = Date.now() + 5_000;
            while (session && session.refresh_token === spent && Date.now() < until) {
              await new Promise((r) => setTimeout(r, 20));
              session = await this.#load();
            }
            if (!session) return null;
            if (session.refresh_token !== spent) return session.access_token;
          }
          let answer;
          try {
            answer = await this.#call("POST", "/v1/auth/refresh", { json: { refresh_token: session.refresh_token } });
          } catch (e) {
            if (e.status === 401) await this.#save(null, "SIGNED_OUT");
            throw e;
          }
          await this.#lock.spend(session.refresh_token);
          await this.#save(this.#session(answer), "TOKEN_REFRESHED");
          return answer.access_token;
        });
      } finally {
        this.#inflight = null;
      }
    })();
    return this.#inflight;
  }

  /** A call with the access token; on 401 `token_expired` it refreshes
   *  once and tries again, on 401 `invalid_token` it finds out whether the
   *  session ended. For routes this library has no method for. */
  async request(method, path, json) {
    const token = await this.getAccessToken();
    if (!token) throw fail("not_signed_in", "sign in first");
    try {
      return await this.#call(method, path, { json, bearer: token });
    } catch (e) {
      // Expired: refresh and retry. Refused (the session ended: sign-out
      // elsewhere, a password change, a factor removed): the refresh fails
      // too, and the client signs out (SIGNED_OUT) before rethrowing.
      if (e.code !== "token_expired" && e.code !== "invalid_token") throw e;
      let fresh;
      try {
        fresh = await this.refresh(null);
      } catch (r) {
        throw r.status === 401 ? e : r;
      }
      if (!fresh) throw e;
      return this.#call(method, path, { json, bearer: fresh });
    }
  }

  /** The signed-in user as last stored (no request), or null. */
  async getSession() {
    const session = await this.#load();
    return session && { user: session.user, expiresAt: session.expires_at };
  }

  // --- signing up and in ------------------------------------------------

  /** {email, password, name?, metadata?} → {user, mfa: null} signed in, or
   *  {user, confirmation_sent: true} when the address must be confirmed. */
  async signUp(fields) {
    return this.#signedIn(await this.#post("/v1/auth/register", fields, { encrypt: true }));
  }

  /** {email, password} → {user} signed in, or {mfa: {token, factors}}:
   *  then call verifyMfa. */
  async signIn({ email, password }) {
    return this.#signedIn(await this.#post("/v1/auth/login", { email, password }, { encrypt: true }));
  }

  /** The second step: {mfaToken, totp} or {mfaToken, recoveryCode}, or
   *  {mfaToken, passkey: true} (a WebAuthn ceremony in the browser). */
  async verifyMfa({ mfaToken, totp, recoveryCode, passkey }) {
    if (passkey) {
      const { flow_id, options } = await this.#call("POST", "/v1/auth/mfa/passkey-options", { json: { mfa_token: mfaToken } });
      const credential = await getCredential(options);
      return this.#signedIn(await this.#call("POST", "/v1/auth/mfa", { json: { mfa_token: mfaToken, flow_id, credential } }));
    }
    const json = { mfa_token: mfaToken };
    if (totp !== undefined) json.totp = totp;
    if (recoveryCode !== undefined) json.recovery_code = recoveryCode;
    return this.#signedIn(await this.#call("POST", "/v1/auth/mfa", { json }));
  }

  /** A usernameless passkey sign-in (browser). */
  async signInWithPasskey() {
    const { flow_id, options } = await this.#post("/v1/auth/passkey/options", {});
    const credential = await getCredential(options);
    return this.#signedIn(await this.#post("/v1/auth/passkey", { flow_id, credential }));
  }

  /** Mails a one-time code (202 whatever the address). */
  async sendEmailCode({ email, createUser }) {
    const body = { email };
    if (createUser !== undefined) body.create_user = createUser;
    await this.#post("/v1/auth/email-code", body);
  }

  /** {email, code} or {token} (from the mailed link) → as signIn. */
  async verifyEmailCode(fields) {
    return this.#signedIn(await this.#call("POST", "/v1/auth/email-code/verify", { json: fields }));
  }

  /** Proves again who is there, for the routes that need a recent sign-in:
   *  {password} | {totp} | {recoveryCode} | {passkey: true}. */
  async reauthenticate({ password, totp, recoveryCode, passkey }) {
    const bearer = await this.getAccessToken();
    if (!bearer) throw fail("not_signed_in", "sign in first");
    let answer;
    if (passkey) {
      const { flow_id, options } = await this.#call("POST", "/v1/auth/reauthenticate/passkey-options", { json: {}, bearer });
      answer = await this.#call("POST", "/v1/auth/reauthenticate", { json: { flow_id, credential: await getCredential(options) }, bearer });
    } else {
      const json = password !== undefined ? { password } : totp !== undefined ? { totp } : { recovery_code: recoveryCode };
      answer = await this.#call("POST", "/v1/auth/reauthenticate", { json, bearer });
    }
    await this.#save(this.#session(answer), "TOKEN_REFRESHED");
    return { user: answer.user };
  }

  /** Ends this session ({scope: "all"}: every session of the user). The
   *  tokens are forgotten here even when the server cannot be reached. */
  async signOut({ scope = "local" } = {}) {
    const session = await this.#load();
    try {
      if (session) {
        const token = await this.getAccessToken().catch(() => null);
        if (token) await this.#call("POST", scope === "all" ? "/v1/auth/logout-all" : "/v1/auth/logout", { bearer: token });
      }
    } catch (e) {
      if (e.status !== 401) throw e;
    } finally {
      await this.#save(null, "SIGNED_OUT");
    }
  }

  // --- profile and sessions ---------------------------------------------

  async getUser() {
    const user = await this.request("GET", "/v1/users/me");
    await this.#keepUser(user);
    return user;
  }

  /** {name?, metadata?} → the user. */
  async updateUser(fields) {
    const user = await this.request("PATCH", "/v1/users/me", fields);
    await this.#keepUser(user);
    return user;
  }

  async #keepUser(user) {
    const session = await this.#load();
    if (session && JSON.stringify(session.user) !== JSON.stringify(user)) {
      await this.#save({ ...session, user }, "USER_UPDATED");
    }
  }

  async changePassword({ currentPassword, newPassword }) {
    const body = { new_password: newPassword };
    if (currentPassword !== undefined) body.current_password = currentPassword;
    await this.#post("/v1/users/me/password", body, { bearer: await this.#token(), encrypt: true });
  }

  async changeEmail({ newEmail, password }) {
    await this.#post("/v1/users/me/email", { new_email: newEmail, password }, { bearer: await this.#token(), encrypt: true });
  }

  async deleteAccount({ password }) {
    const settings = await this.settings();
    const bearer = await this.#token();
    if (settings.rsa && settings.rsa.enabled) {
      await this.#call("DELETE", "/v1/users/me", { jose: await encryptJwe({ password }, await this.#rsaKey()), bearer });
    } else {
      await this.#call("DELETE", "/v1/users/me", { json: { password }, bearer });
    }
    await this.#save(null, "SIGNED_OUT");
  }

  async #token() {
    const token = await this.getAccessToken();
    if (!token) throw fail("not_signed_in", "sign in first");
    return token;
  }

  /** [{id, created_at, last_used_at, user_agent, ip, current}] */
  async listSessions() {
    return (await this.request("GET", "/v1/users/me/sessions")).sessions;
  }

  async revokeSession(id) {
    await this.request("DELETE", "/v1/users/me/sessions/" + encodeURIComponent(id));
  }

  // --- factors ------------------------------------------------------------

  /** {totp, passkeys, recovery_codes} */
  listFactors() { return this.request("GET", "/v1/users/me/factors"); }
  /** {secret, otpauth_uri, expires_in}: show it, then confirmTotp(code). */
  enrollTotp() { return this.request("POST", "/v1/users/me/totp"); }
  /** → {recovery_codes}: show them once. */
  confirmTotp(code) { return this.request("POST", "/v1/users/me/totp/confirm", { code }); }
  disableTotp() { return this.request("DELETE", "/v1/users/me/totp"); }
  regenerateRecoveryCodes() { return this.request("POST", "/v1/users/me/recovery-codes"); }

  /** Registers a passkey of this device (browser) → the passkey. */
  async addPasskey({ name } = {}) {
    const { flow_id, options } = await this.request("POST", "/v1/users/me/passkeys/options", {});
    const credential = await createCredential(options);
    const body = { flow_id, credential };
    if (name !== undefined) body.name = name;
    return this.request("POST", "/v1/users/me/passkeys", body);
  }

  renamePasskey(id, name) { return this.request("PATCH", "/v1/users/me/passkeys/" + encodeURIComponent(id), { name }); }
  removePasskey(id) { return this.request("DELETE", "/v1/users/me/passkeys/" + encodeURIComponent(id)); }
}

// --- WebAuthn, with the Level 3 JSON helpers when the browser has them ----

function webauthn() {
  if (typeof PublicKeyCredential === "undefined" || typeof navigator === "undefined" || !navigator.credentials) {
    throw fail("passkeys_unsupported", "this environment has no WebAuthn");
  }
  return PublicKeyCredential;
}

const inner = (options) => options.publicKey || options;

async function getCredential(options) {
  const PKC = webauthn();
  const json = inner(options);
  const publicKey = PKC.parseRequestOptionsFromJSON ? PKC.parseRequestOptionsFromJSON(json) : {
    ...json,
    challenge: fromB64url(json.challenge),
    allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) })),
  };
  const credential = await navigator.credentials.get({ publicKey, mediation: options.mediation });
  return toJSON(credential);
}

async function createCredential(options) {
  const PKC = webauthn();
  const json = inner(options);
  const publicKey = PKC.parseCreationOptionsFromJSON ? PKC.parseCreationOptionsFromJSON(json) : {
    ...json,
    challenge: fromB64url(json.challenge),
    user: { ...json.user, id: fromB64url(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) })),
  };
  return toJSON(await navigator.credentials.create({ publicKey }));
}

function toJSON(credential) {
  if (!credential) throw fail("passkey_cancelled", "no credential was chosen");
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: b64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64url(r.attestationObject);
    if (r.getTransports) response.transports = r.getTransports();
  } else {
    response.authenticatorData = b64url(r.authenticatorData);
    response.signature = b64url(r.signature);
    if (r.userHandle) response.userHandle = b64url(r.userHandle);
  }
  return {
    id: credential.id, rawId: b64url(credential.rawId), type: credential.type, response,
    clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  };
}
