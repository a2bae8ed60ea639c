# Keycloak: the users of a realm export (kc.sh export --realm R --file
# realm.json, or --users same_file), as toktok import lines. Keycloak's
# PBKDF2 (pbkdf2, pbkdf2-sha256, pbkdf2-sha512) and Argon2 credentials are
# rewritten as PHC strings; its user ids are UUIDs and are kept.
#   jq -c -f keycloak.jq realm.json > users.ndjson
def nopad: sub("=+$"; "");
def phc($c):
    ($c.secretData | fromjson) as $s | ($c.credentialData | fromjson) as $d
    | $d.additionalParameters as $p
    | if $d.algorithm == "argon2" then
        "$argon2\($p.type[0] // "id")$v=19$m=\($p.memory[0]),t=\($d.hashIterations),p=\($p.parallelism[0])$\($s.salt | nopad)$\($s.value | nopad)"
      elif ($d.algorithm | test("^pbkdf2(-sha256|-sha512)?$")) then
        "$\($d.algorithm)$i=\($d.hashIterations)$\($s.salt | nopad)$\($s.value | nopad)"
      else null end;
.users[]
| select(.email != null)
| ([.credentials[]? | select(.type == "password")] | first) as $c
| {
    id,
    email,
    password_hash: (if $c then phc($c) else null end),
    email_confirmed: (.emailVerified // false),
    name: ([.firstName, .lastName] | map(select(. != null and . != "")) | join(" ") | if . == "" then null else . end),
    disabled: (.enabled == false),
    created_at: (if .createdTimestamp then (.createdTimestamp / 1000 | floor) else null end)
  }
