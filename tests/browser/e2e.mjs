// Drives toktok's /demo page in headless Chromium and checks what went over
// the wire. Usage: node e2e.mjs <base-url>   (run.sh starts the server with
// anonymous tokens and RSA both required, then calls this).
// Chromium, the base URL and the tally: chromium.mjs.

import { tmpdir } from "node:os";
import { join } from "node:path";

import { baseUrl, Checks, launch, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("e2e.mjs");
const checks = new Checks("browser e2e");
const check = checks.check.bind(checks);

// Register/login requests must carry a JWE compact body, not JSON, with
// the anonymous token; returns what is wrong, if anything.
function jweProblems(r, email) {
  const problems = [];
  const type = r.headers["content-type"] || "";
  if (!type.startsWith("application/jose")) problems.push(`content-type "${type}"`);
  const body = r.body || "";
  let isJson = true;
  try { JSON.parse(body); } catch (_) { isJson = false; }
  if (isJson) problems.push("the body is JSON");
  const parts = body.split(".");
  if (parts.length !== 5 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    problems.push(`the body is not 5 non-empty base64url parts (${parts.length} parts)`);
  } else {
    let header = {};
    try { header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")); } catch (_) {}
    if (header.alg !== "RSA-OAEP-256" || header.enc !== "A256GCM") {
      problems.push(`protected header ${JSON.stringify(header)}`);
    }
    if (Buffer.from(parts[2], "base64url").length !== 12) problems.push("IV is not 96 bits");
    if (Buffer.from(parts[4], "base64url").length !== 16) problems.push("tag is not 128 bits");
  }
  if (email && body.includes(email)) problems.push("the email address is readable in the body");
  if (/password/i.test(body)) problems.push("the word password is readable in the body");
  const auth = r.headers["authorization"] || "";
  const token = auth.match(/^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/);
  if (!token) {
    problems.push("no Authorization: Bearer <JWT>");
  } else {
    let claims = {};
    try { claims = JSON.parse(Buffer.from(token[1].split(".")[1], "base64url").toString("utf8")); } catch (_) {}
    if (claims.typ !== "anonymous") problems.push(`bearer token typ ${JSON.stringify(claims.typ)}, not "anonymous"`);
  }
  return problems;
}

let browser;
try {
  browser = await launch();
  const page = await browser.newPage();

  // Everything the page does, in order.
  const requests = [];
  page.on("request", (request) => {
    requests.push({
      request,
      method: request.method(),
      url: request.url(),
      body: request.postData(),
      headers: request.allHeaders(), // a promise: resolved below
      status: null,
    });
  });
  page.on("response", (response) => {
    const entry = requests.find((r) => r.request === response.request());
    if (entry) entry.status = response.status();
  });
  const consoleLines = [];
  const cspViolations = [];
  page.on("console", (message) => {
    consoleLines.push(`${message.type()}: ${message.text()}`);
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));

  // 1. The page itself and its headers.
  const response = await page.goto(base + "/demo", { waitUntil: "load", timeout: TIMEOUT_MS });
  const headers = response ? response.headers() : {};
  const csp = headers["content-security-policy"] || "";
  check(
    "GET /demo answers 200 with CSP, no-referrer and no-store",
    response?.status() === 200 &&
      csp.includes("default-src 'none'") &&
      !csp.includes("unsafe-inline") &&
      headers["referrer-policy"] === "no-referrer" &&
      headers["cache-control"] === "no-store",
    `status ${response?.status()}, csp "${csp.slice(0, 60)}…"`,
  );

  // 2. The whole sequence, as a user would start it. The page picks a new
  //    random identity after a successful run, so read this one first.
  const email = await page.inputValue("#email");
  await page.click("#run", { timeout: TIMEOUT_MS });
  let result = null;
  try {
    await page.waitForSelector("body[data-result]", { state: "attached", timeout: TIMEOUT_MS });
    result = await page.evaluate(() => document.body.dataset.result);
  } catch (e) {
    result = `no result within ${TIMEOUT_MS / 1000} s`;
  }
  check("Run all ends with data-result=\"ok\"", result === "ok", result === "ok" ? "" : result);

  for (const r of requests) r.headers = await r.headers.catch(() => ({}));
  const path = (r) => new URL(r.url).pathname;
  const posts = (p) => requests.filter((r) => r.method === "POST" && path(r) === p);

  // 3. Register and login bodies were JWE, sent with the anonymous token.
  for (const endpoint of ["/v1/auth/register", "/v1/auth/login"]) {
    const sent = posts(endpoint);
    const problems = [];
    if (sent.length !== 1) problems.push(`${sent.length} requests instead of 1`);
    for (const r of sent) problems.push(...jweProblems(r, email));
    check(`POST ${endpoint} was a JWE with an anonymous bearer token`, problems.length === 0, problems.join("; "));
  }

  // 4. The rest of the sequence happened, with the expected answers.
  const expected = [
    ["GET", "/v1/settings", 200],
    ["POST", "/v1/auth/anonymous", 200],
    ["POST", "/v1/auth/register", 201],
    ["POST", "/v1/auth/login", 200],
    ["GET", "/v1/users/me", 200],
    ["POST", "/v1/auth/refresh", 200],
    ["POST", "/v1/auth/logout", 204],
    ["GET", "/v1/users/me", 401],
  ];
  const missing = expected
    .filter(([m, p, s]) => !requests.some((r) => r.method === m && path(r) === p && r.status === s))
    .map(([m, p, s]) => `${m} ${p} → ${s}`);
  check("the API calls of the sequence all answered as expected", missing.length === 0,
    missing.length ? "missing: " + missing.join(", ") : "");

  const refresh = posts("/v1/auth/refresh")[0];
  check(
    "refresh sent plain JSON (only credentials are encrypted)",
    !!refresh && (refresh.headers["content-type"] || "").startsWith("application/json") &&
      typeof JSON.parse(refresh.body || "null")?.refresh_token === "string",
  );

  // 5. Nothing left this origin, and the CSP blocked nothing of the page's.
  const foreign = requests.filter((r) => !r.url.startsWith(base + "/") && !r.url.startsWith("data:"));
  check("no request left the server's origin", foreign.length === 0, foreign.map((r) => r.url).join(", "));
  check("no CSP violations or script errors", cspViolations.length === 0 && pageErrors.length === 0,
    [...cspViolations, ...pageErrors].join(" | "));

  if (checks.failed) {
    console.log("\n--- the page's log ---");
    const lines = await page.$$eval("#log li", (items) => items.map((li) => li.textContent)).catch(() => []);
    for (const line of lines) console.log("  " + line);
    console.log("--- requests ---");
    for (const r of requests) console.log(`  ${r.method} ${r.url} → ${r.status}`);
    console.log("--- console ---");
    for (const line of consoleLines) console.log("  " + line);
    const shot = join(tmpdir(), `toktok-demo-failure-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).then(
      () => console.log(`screenshot: ${shot}`),
      () => {},
    );
  }

} catch (e) {
  check("the browser test ran to the end", false, e instanceof Error ? e.message : String(e));
} finally {
  await browser?.close().catch(() => {});
}

checks.finish();
