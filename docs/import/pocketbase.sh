#!/bin/sh
# PocketBase: the auth collection "users" (pb_data/data.db), as toktok
# import lines. PocketBase's record ids are not UUIDs: each is kept as
# app_metadata.pocketbase_id. Its bcrypt hashes sign in as they are.
#   sh pocketbase.sh pb_data/data.db > users.ndjson
set -eu
sqlite3 -json "$1" "SELECT id, email, password, verified, name, created FROM users WHERE email <> ''" |
    jq -c '.[] | {
        email,
        password_hash: (if .password == "" then null else .password end),
        email_confirmed: (.verified == 1),
        name: (if (.name // "") == "" then null else .name end),
        app_metadata: {pocketbase_id: .id},
        created_at: (.created | sub(" "; "T"))
    }'
