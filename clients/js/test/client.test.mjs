// The library against a live toktok (clients/js/run-tests.sh starts it):
// every function, and the error codes the contract lists for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";

import { createClient, TokTokError } from "../toktok.js";

const URL = process.env.TOKTOK_URL;
const SEALED = process.env.TOKTOK_SEALED_URL;
const OUTBOX = process.env.TOKTOK_OUTBOX;
const PASSWORD = "a long passphrase of mine";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const address = (what) => `${what}-${randomBytes(4).toString("hex")}@example.com`;

async function rejects(promise, status, code) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof TokTokError, `not a TokTokError: ${e}`);
    assert.equal(e.status, status, `${e.code}: ${e.detail}`);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected ${status} ${code}`);
}

async function signedUp(url = URL) {
  const auth = createClient({ url });
  const email = address("u");
  const r = await auth.signUp({ email, password: PASSWORD });
  assert.equal(r.user.email, email);
  return { auth, email };
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) from a base32 secret. */
function totp(secret, offset = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[19] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1e6).padStart(6, "0");
}

test("signUp signs in; a taken address, a bad field and a weak password are typed errors", async () => {
  const { auth, email } = await signedUp();
  assert.ok(await auth.getAccessToken());
  const other = createClient({ url: URL });
  await rejects(other.signUp({ email, password: PASSWORD }), 409, "email_taken");
  const bad = await rejects(other.signUp({ email: "not an address", password: PASSWORD }), 422, "validation_failed");
  assert.deepEqual(bad.errors.map((f) => f.field), ["email"]);
  await rejects(other.signUp({ email: address("w"), password: "password" }), 422, "weak_password");
});

test("signIn, getUser, updateUser and the events they cause", async () => {
  const { email } = await signedUp();
  const auth = createClient({ url: URL });
  const events = [];
  auth.onAuthStateChange((event, session) => events.push([event, session && session.user.email]));
  await rejects(auth.signIn({ email, password: "not the password" }), 401, "invalid_credentials");
  assert.equal(await auth.getAccessToken(), null);
  const r = await auth.signIn({ email, password: PASSWORD });
  assert.equal(r.mfa, null);
  assert.equal((await auth.getUser()).email, email);
  const user = await auth.updateUser({ name: "Ada", metadata: { theme: "dark" } });
  assert.equal(user.name, "Ada");
  assert.equal((await auth.getSession()).user.name, "Ada");
  await rejects(auth.updateUser({ role: "admin" }), 422, "validation_failed");
  assert.deepEqual(events.map(([e]) => e), ["SIGNED_IN", "USER_UPDATED"]);
});

test("getAccessToken refreshes before expiry, one refresh at a time", async () => {
  const { auth } = await signedUp();
  const events = [];
  auth.onAuthStateChange((event) => events.push(event));
  const first = await auth.getAccessToken();
  await sleep(1700); // 3 s tokens: due after half their life
  const many = await Promise.all(Array.from({ length: 8 }, () => auth.getAccessToken()));
  assert.equal(new Set(many).size, 1, "eight callers, one refresh");
  assert.notEqual(many[0], first);
  assert.deepEqual(events, ["TOKEN_REFRESHED"]);
  assert.equal((await auth.getUser()).role, "user");
});

function mapStorage(entries = []) {
  const m = new Map(entries);
  return { map: m, getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}

test("a refresh token presented after its successor is reuse: the session ends everywhere", async () => {
  const owner = mapStorage();
  const auth = createClient({ url: URL, storage: owner });
  await auth.signUp({ email: address("r"), password: PASSWORD });
  // A copy of the stored tokens, as a second tab without the shared lock
  // (or a thief) would hold them.
  const stale = createClient({ url: URL, storage: mapStorage(owner.map) });
  await auth.refresh(null);
  await sleep(1200); // past reuse_grace (1 s)
  const events = [];
  stale.onAuthStateChange((event) => events.push(event));
  await rejects(stale.refresh(null), 401, "token_reused");
  assert.deepEqual(events, ["SIGNED_OUT"]);
  assert.equal(await stale.getSession(), null);
  await rejects(auth.refresh(null), 401, "invalid_token");
});

test("sessions: list, revoke another, 404 for an unknown one; signOut scope all", async () => {
  const { auth, email } = await signedUp();
  const second = createClient({ url: URL });
  await second.signIn({ email, password: PASSWORD });
  const sessions = await auth.listSessions();
  assert.equal(sessions.length, 2);
  assert.equal(sessions.filter((s) => s.current).length, 1);
  const other = sessions.find((s) => !s.current);
  await auth.revokeSession(other.id);
  await rejects(second.getUser(), 401, "invalid_token");
  await rejects(auth.revokeSession(other.id), 404, "not_found");
  const third = createClient({ url: URL });
  await third.signIn({ email, password: PASSWORD });
  await auth.signOut({ scope: "all" });
  assert.equal(await auth.getAccessToken(), null);
  await rejects(third.getUser(), 401, "invalid_token");
  await rejects(auth.getUser(), 0, "not_signed_in");
});

test("signOut forgets the tokens and ends the session", async () => {
  const { auth } = await signedUp();
  const token = await auth.getAccessToken();
  await auth.signOut();
  assert.equal(await auth.getSession(), null);
  const res = await fetch(URL + "/v1/users/me", { headers: { authorization: "Bearer " + token } });
  assert.equal(res.status, 401);
});

test("changePassword, changeEmail, deleteAccount with their errors", async () => {
  const { auth, email } = await signedUp();
  await rejects(auth.changePassword({ currentPassword: "wrong one here", newPassword: "another passphrase" }), 403, "wrong_password");
  await auth.changePassword({ currentPassword: PASSWORD, newPassword: "another long passphrase" });
  await rejects(auth.changeEmail({ newEmail: address("n"), password: "wrong one here" }), 403, "wrong_password");
  await auth.changeEmail({ newEmail: address("n"), password: "another long passphrase" });
  await rejects(auth.deleteAccount({ password: PASSWORD }), 403, "wrong_password");
  await auth.deleteAccount({ password: "another long passphrase" });
  assert.equal(await auth.getSession(), null);
  await rejects(createClient({ url: URL }).signIn({ email, password: "another long passphrase" }), 401, "invalid_credentials");
});

test("TOTP: enrol, the MFA step at sign-in, reauthenticate, recovery codes, disable", async () => {
  const { auth, email } = await signedUp();
  const { secret } = await auth.enrollTotp();
  await rejects(auth.confirmTotp("000000"), 422, "validation_failed");
  const { recovery_codes } = await auth.confirmTotp(totp(secret));
  assert.equal(recovery_codes.length, 10);
  assert.ok((await auth.listFactors()).totp);

  const fresh = createClient({ url: URL });
  const step = await fresh.signIn({ email, password: PASSWORD });
  assert.ok(step.mfa && step.mfa.factors.includes("totp"));
  await rejects(fresh.verifyMfa({ mfaToken: step.mfa.token, totp: "000000" }), 401, "invalid_credentials");
  const done = await fresh.verifyMfa({ mfaToken: step.mfa.token, recoveryCode: recovery_codes[0] });
  assert.equal(done.user.email, email);
  await rejects(fresh.verifyMfa({ mfaToken: step.mfa.token, totp: totp(secret) }), 401, "invalid_token");

  // The session is at aal 2 and recent: the (R) routes answer.
  assert.equal((await fresh.regenerateRecoveryCodes()).recovery_codes.length, 10);
  const events = [];
  fresh.onAuthStateChange((event) => events.push(event));
  await fresh.disableTotp();
  // Removing the factor ended the sessions it raised to aal 2, this one
  // too: the next call finds out, and the client signs itself out.
  await rejects(fresh.listFactors(), 401, "invalid_token");
  assert.equal(await fresh.getSession(), null);
  assert.deepEqual(events, ["SIGNED_OUT"]);
  const again = await fresh.signIn({ email, password: PASSWORD });
  assert.equal(again.mfa, null, "no second factor any more");
  await rejects(fresh.regenerateRecoveryCodes(), 409, "conflict");
  await fresh.reauthenticate({ password: PASSWORD });
  await rejects(fresh.reauthenticate({ password: "not the password" }), 403, "wrong_password");
  await rejects(fresh.signInWithPasskey(), 0, "passkeys_unsupported");
});

test("email codes: sent whatever the address, verified into a session", async () => {
  const { email } = await signedUp();
  const auth = createClient({ url: URL });
  await auth.sendEmailCode({ email });
  await auth.sendEmailCode({ email: address("nobody") });
  await sleep(1500);
  const mail = readdirSync(OUTBOX)
    .map((f) => OUTBOX + "/" + f)
    .filter((f) => readFileSync(f, "utf8").includes(email))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    .map((f) => readFileSync(f, "utf8"))
    .pop();
  const code = mail && mail.match(/\b(\d{6})\b/);
  assert.ok(code, "a code in the mail");
  await rejects(auth.verifyEmailCode({ email, code: code[1] === "000000" ? "111111" : "000000" }), 400, "invalid_token");
  const r = await auth.verifyEmailCode({ email, code: code[1] });
  assert.equal(r.user.email, email);
});

test("a server that requires anonymous tokens and JWE bodies: the same calls work", async () => {
  const { auth, email } = await signedUp(SEALED);
  await auth.signOut();
  await rejects(auth.signIn({ email, password: "not the password" }), 401, "invalid_credentials");
  await auth.signIn({ email, password: PASSWORD });
  assert.equal((await auth.getUser()).email, email);
  await auth.changePassword({ currentPassword: PASSWORD, newPassword: "another long passphrase" });
  await auth.changeEmail({ newEmail: address("s"), password: "another long passphrase" });
  await auth.reauthenticate({ password: "another long passphrase" });
  await auth.sendEmailCode({ email });
  // Plain JSON is refused there: what the library saves the app from.
  const res = await fetch(SEALED + "/v1/auth/login", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(res.status, 401);
});

test("client-side errors: no server, bad options", async () => {
  const nowhere = createClient({ url: "http://127.0.0.1:9" });
  await rejects(nowhere.signIn({ email: "a@example.com", password: PASSWORD }), 0, "network_error");
  assert.throws(() => createClient({ url: URL, storage: "nowhere" }), (e) => e.code === "bad_option");
  assert.throws(() => createClient({ url: URL, storage: "local" }), (e) => e.code === "storage_unavailable");
});
