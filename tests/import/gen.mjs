// Node's bcryptjs (the npm package, pinned in package.json) hashes users
// for tests/import/run.sh: import lines, and an Auth0 password hash export
// for the docs/import/auth0.jq recipe. Adds to WORK/passwords.json.
//   node gen.mjs WORK
import { readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";

const work = process.argv[2];
const passwords = JSON.parse(readFileSync(`${work}/passwords.json`, "utf8"));
const pw = (email) => (passwords[email] = `node-${randomBytes(6).toString("hex")}`);

const lines = [];
for (const [email, rounds] of [["bcryptjs@example.com", 10], ["bcryptjs-cheap@example.com", 6]]) {
  lines.push({ email, password_hash: bcrypt.hashSync(pw(email), rounds), email_confirmed: true });
}
writeFileSync(`${work}/node.ndjson`, lines.map((l) => JSON.stringify(l) + "\n").join(""));

// Auth0's export: one object a line, Mongo-style _id.
const auth0 = ["a0-one@example.com", "a0-two@example.com"].map((email, i) => ({
  _id: { $oid: randomBytes(12).toString("hex") },
  email,
  email_verified: i === 0,
  tenant: "acme",
  connection: "Username-Password-Authentication",
  passwordHash: bcrypt.hashSync(pw(email), 10),
}));
writeFileSync(`${work}/auth0.json`, auth0.map((u) => JSON.stringify(u) + "\n").join(""));
writeFileSync(`${work}/passwords.json`, JSON.stringify(passwords, null, 2));
