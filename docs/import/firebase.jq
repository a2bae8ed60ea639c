# Firebase Authentication: the file of `firebase auth:export users.json
# --format=json`, as toktok import lines. The password hashes need the
# project's hash parameters in [import.firebase] (docs/import.md). The
# Firebase uid is kept as app_metadata.firebase_uid.
#   jq -c -f firebase.jq users.json > users.ndjson
.users[]
| select(.email != null)
| {
    email,
    email_confirmed: (.emailVerified // false),
    name: .displayName,
    disabled: (.disabled // false),
    created_at: (if .createdAt then (.createdAt | tonumber / 1000 | floor) else null end),
    app_metadata: {firebase_uid: .localId}
  }
  + (if .passwordHash then {password_hash: "$firebase-scrypt$\(.salt)$\(.passwordHash)"} else {} end)
