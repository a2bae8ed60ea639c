// The client library in Chromium (issue 24): a passkey added and used to
// sign in through the library with the DevTools virtual authenticator,
// then TOTP enrolled and the MFA step completed with a code and with the
// passkey. The page is a blank page on toktok's origin; the library comes
// from the server (/sdk/toktok.js).
//
//   node sdk.mjs <base-url>

import { createHmac } from "node:crypto";

import { launch, baseUrl, Checks, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("sdk.mjs");
const checks = new Checks("client library in the browser");
const PASSWORD = "a long passphrase of mine";

function totp(secret, step = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[19] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1e6).padStart(6, "0");
}

const browser = await launch();
try {
  const context = await browser.newContext();
  await context.route(base + "/__sdk", (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><title>sdk</title>" }));
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  await page.goto(base + "/__sdk");
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  // Runs `body` in the page with `auth`, the library's client.
  const run = (body, arg) => page.evaluate(async ({ base, body, arg }) => {
    const lib = await import(base + "/sdk/toktok.js");
    window.auth = window.auth || lib.createClient({ url: base });
    const claims = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    try {
      return { ok: await new Function("auth", "claims", "arg", `return (async () => { ${body} })()`)(window.auth, claims, arg) };
    } catch (e) {
      return { error: e.code || String(e) };
    }
  }, { base, body, arg });

  const email = `sdk-${Date.now()}@example.com`;
  let r = await run(`await auth.signUp({ email: arg.email, password: arg.password });
    const p = await auth.addPasskey({ name: "Virtual" });
    await auth.signOut();
    const signed = await auth.signInWithPasskey();
    const c = claims(await auth.getAccessToken());
    return { passkey: p.name, email: signed.user.email, aal: c.aal, amr: c.amr };`, { email, password: PASSWORD });
  checks.check("addPasskey, then signInWithPasskey with the virtual authenticator",
    r.ok && r.ok.passkey === "Virtual" && r.ok.email === email && r.ok.aal === 2,
    JSON.stringify(r));

  r = await run(`return await auth.enrollTotp();`);
  const secret = r.ok && r.ok.secret;
  r = await run(`return (await auth.confirmTotp(arg.code)).recovery_codes.length;`, { code: totp(secret || "") });
  checks.check("enrollTotp and confirmTotp (at aal 2 from the passkey)", r.ok === 10, JSON.stringify(r));

  r = await run(`await auth.signOut();
    const step = await auth.signIn({ email: arg.email, password: arg.password });
    const done = await auth.verifyMfa({ mfaToken: step.mfa.token, totp: arg.code });
    const c = claims(await auth.getAccessToken());
    return { factors: step.mfa.factors, email: done.user.email, aal: c.aal, amr: c.amr };`,
    // The enrolment used this window's code; a code never verifies twice,
    // so the sign-in uses the next window's (accepted as clock skew).
    { email, password: PASSWORD, code: totp(secret || "", 1) });
  checks.check("signIn asks for the MFA step; verifyMfa with a TOTP code gives aal 2",
    r.ok && r.ok.factors.includes("totp") && r.ok.aal === 2 && r.ok.amr.includes("otp"), JSON.stringify(r));

  r = await run(`await auth.signOut();
    const step = await auth.signIn({ email: arg.email, password: arg.password });
    await auth.verifyMfa({ mfaToken: step.mfa.token, passkey: true });
    return claims(await auth.getAccessToken());`, { email, password: PASSWORD });
  checks.check("verifyMfa with the passkey as the second factor",
    r.ok && r.ok.aal === 2 && r.ok.amr.includes("pwd"), JSON.stringify(r && r.ok && r.ok.amr));

  r = await run(`await auth.signOut();
    try { await auth.signIn({ email: arg.email, password: "not the password" }); } catch (e) {
      return { name: e.name, code: e.code, status: e.status, isError: e instanceof Error };
    }`, { email });
  checks.check("a wrong password is a TokTokError with its code",
    r.ok && r.ok.name === "TokTokError" && r.ok.code === "invalid_credentials" && r.ok.status === 401, JSON.stringify(r));
} finally {
  await browser.close();
}
checks.finish();
