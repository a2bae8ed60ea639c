// toktok's tokens through Node's jose (tests/interop/run.sh).
//
//   node check.mjs tokens TOKENS.json   the obvious recipe and the documented
//                                       one accept the access token only
//   node check.mjs rotate EMAIL PASSWORD READY_FILE
//                                       verifies fresh tokens with one
//                                       long-lived key set across a rotation
//
// TOKTOK_URL names the server whose JWKS is trusted.
import { writeFileSync } from "node:fs";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { verifyAccessToken } from "./build/verify.mjs";

const url = process.env.TOKTOK_URL;
const [mode, ...args] = process.argv.slice(2);

async function outcome(verify, token) {
  try {
    await verify(token);
    return ["accepted", ""];
  } catch (e) {
    return ["refused", e.code ?? e.name];
  }
}

async function tokens(file) {
  const t = JSON.parse((await import("node:fs")).readFileSync(file, "utf8"));
  const jwks = createRemoteJWKSet(new URL("/.well-known/jwks.json", url));
  // The recipe most services start from: signature, iss, aud, exp.
  const obvious = (token) => jwtVerify(token, jwks, { issuer: "toktok", audience: "toktok" });
  let failures = 0;
  for (const [recipe, verify] of [["obvious", obvious], ["documented", verifyAccessToken]]) {
    for (const [name, token] of Object.entries(t)) {
      const expected = name === "access" ? "accepted" : "refused";
      const [got, why] = await outcome(verify, token);
      const ok = got === expected;
      if (!ok) failures++;
      console.log(`jose ${recipe.padEnd(10)} ${name.padEnd(15)} ${got} ${why}${ok ? "" : "  <-- WRONG"}`);
    }
  }
  process.exit(failures === 0 ? 0 : 1);
}

async function login(email, password) {
  const res = await fetch(new URL("/v1/auth/login", url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return (await res.json()).access_token;
}

async function rotate(email, password, readyFile) {
  const start = Date.now();
  let firstKid = null;
  let newSince = null;
  let verified = 0;
  let withNew = 0;
  let failures = 0;
  for (;;) {
    const token = await login(email, password);
    const kid = decodeProtectedHeader(token).kid;
    try {
      await verifyAccessToken(token);
      verified++;
    } catch (e) {
      failures++;
      console.log(`jose rotate: a fresh token with kid ${kid} was refused at +${(Date.now() - start) / 1000} s: ${e.code ?? e}`);
    }
    if (firstKid === null) {
      firstKid = kid;
      writeFileSync(readyFile, "ready\n");
    } else if (kid !== firstKid) {
      newSince ??= Date.now();
      withNew++;
      if (Date.now() - newSince >= 5000 && withNew >= 10) break;
    }
    if (Date.now() - start > 150_000) {
      console.log("jose rotate: the new key did not sign within 150 s");
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const newAt = (newSince - start) / 1000;
  console.log(`jose rotate: ${verified} fresh tokens verified with one key set, ${withNew} by the new key (first at +${newAt} s), ${failures} failures`);
  process.exit(failures === 0 ? 0 : 1);
}

if (mode === "tokens") await tokens(...args);
else if (mode === "rotate") await rotate(...args);
else {
  console.error("usage: node check.mjs tokens FILE | rotate EMAIL PASSWORD READY_FILE");
  process.exit(2);
}
