"""Schemathesis extensions for toktok (loaded through SCHEMATHESIS_HOOKS by
run.sh): a serializer for `application/x-ndjson`, the body of
POST /v1/admin/users/import, which Schemathesis has none for. The schema
gives that body as a string (the file's text); it is sent as UTF-8."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    # Any other value the generator draws: one JSON document a line.
    values = value if isinstance(value, list) else [value]
    return "".join(json.dumps(v) + "\n" for v in values).encode()
