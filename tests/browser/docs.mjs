// Opens toktok's /docs (Swagger UI) in headless Chromium and checks that
// "Try it out" is ready for every operation that takes a body: the form is
// already in try-out mode, the request's media type is application/json,
// and the example in the editor is a JSON object (issue 17). Usage: node docs.mjs <base-url>   (run.sh starts the server).
//
// Chromium, the base URL and the tally: chromium.mjs. On a failure a
// screenshot of the page is written to the temp directory.

import { tmpdir } from "node:os";
import { join } from "node:path";

import { baseUrl, Checks, launch, TIMEOUT_MS } from "./chromium.mjs";

const base = baseUrl("docs.mjs");
const checks = new Checks("browser /docs");
const check = checks.check.bind(checks);

// The operations with a JSON request body, from the document the page shows.
const doc = await (await fetch(`${base}/openapi.json`)).json();
const withBody = [];
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) {
    const content = op?.requestBody?.content;
    if (content && content["application/json"]) withBody.push({ method, path, id: op.operationId });
  }
}

let browser;
let page;
try {
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/docs/`, { timeout: TIMEOUT_MS });
  await page.waitForSelector(".opblock", { timeout: TIMEOUT_MS });
  check("/docs renders the operations", (await page.locator(".opblock").count()) > 0);
  check("the document lists operations with a JSON body", withBody.length > 0, `${withBody.length}`);

  for (const { method, path, id } of withBody) {
    // Swagger UI's element id: operations-<tag>-<operationId>.
    const op = page.locator(`.opblock[id$="-${id}"]`).first();
    if ((await op.count()) === 0) {
      check(`${method.toUpperCase()} ${path}: shown`, false, `no block for ${id}`);
      continue;
    }
    if (!(await op.evaluate((el) => el.classList.contains("is-open")))) {
      await op.locator(".opblock-summary").first().click();
    }
    const editor = op.locator("textarea.body-param__text").first();
    await editor.waitFor({ timeout: TIMEOUT_MS });
    const tryingOut = (await op.locator("button.try-out__btn.cancel").count()) > 0;
    const mediaType = await op
      .locator(".opblock-section-request-body select")
      .first()
      .inputValue()
      .catch(() => "");
    const text = await editor.inputValue();
    let parsed;
    let parses = true;
    try { parsed = JSON.parse(text); } catch (_) { parses = false; }
    const ok = tryingOut && mediaType === "application/json" && parses && parsed && typeof parsed === "object";
    check(
      `${method.toUpperCase()} ${path}: try it out, application/json, a JSON example`,
      ok,
      ok ? "" : `trying out ${tryingOut}, media type "${mediaType}", example ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  check("no script errors on the page", pageErrors.length === 0, pageErrors.join("; "));
} catch (e) {
  check("the /docs check ran to the end", false, e instanceof Error ? e.message : String(e));
} finally {
  if (checks.failed && page) {
    const shot = join(tmpdir(), `toktok-docs-failure-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).then(
      () => console.log(`screenshot: ${shot}`),
      () => {},
    );
  }
  await browser?.close().catch(() => {});
}

checks.finish();
