# Auth0: the password hash export Auth0 support sends (one JSON object a
# line: _id, email, email_verified, passwordHash), as toktok import lines.
# The Auth0 user id is kept as app_metadata.auth0_id.
#   jq -c -f auth0.jq auth0-export.json > users.ndjson
select(.email != null) | {
    email,
    password_hash: .passwordHash,
    email_confirmed: (.email_verified // false),
    app_metadata: {auth0_id: ("auth0|" + (._id["$oid"] // ._id))}
}
