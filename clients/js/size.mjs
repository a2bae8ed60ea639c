// The size of toktok.js as an app ships it: minified by esbuild, then
// gzipped (level 9). Fails above 20 KB (issue 24).
//   node size.mjs
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";

const LIMIT = 20 * 1024;
const source = readFileSync(new URL("./toktok.js", import.meta.url), "utf8");
const { code } = await transform(source, { minify: true, format: "esm", target: "es2022" });
const gzipped = gzipSync(code, { level: 9 }).length;
const raw = gzipSync(source, { level: 9 }).length;
console.log(`toktok.js: ${source.length} bytes, ${code.length} minified, ${gzipped} minified + gzipped (${raw} gzipped unminified); limit ${LIMIT}`);
if (gzipped >= LIMIT) {
  console.error("toktok.js: over the size limit");
  process.exit(1);
}
