// Accessibility: axe-core (pinned in package.json, read from node_modules,
// never downloaded) run inside a page. The pages' CSP allows no injected
// script tag, so the source is evaluated through DevTools, which the CSP
// does not govern. A serious or critical violation fails the check; the
// rest are printed.
//
//   import { axeCheck } from "./axe.mjs";
//   await axeCheck(page, "account profile 1280 en", check);

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const source = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function axeCheck(page, name, check) {
  const result = await page.evaluate(async (src) => {
    if (!window.axe) {
      (0, eval)(src);
    }
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  }, source);
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result.filter((v) => !bad.includes(v))) {
    console.log(`     axe ${v.impact}: ${v.id} (${v.help}) on ${name}: ${v.targets.join(", ")}`);
  }
  check(
    `axe: no serious or critical violation on ${name}`,
    bad.length === 0,
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.targets.join(", ")}`).join("; "),
  );
  return result;
}
