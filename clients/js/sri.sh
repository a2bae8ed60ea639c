#!/usr/bin/env bash
# Writes toktok.js's subresource-integrity value into README.md (between
# the integrity markers), after an edit of toktok.js. run-tests.sh fails
# while the two disagree.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sri="sha384-$(openssl dgst -sha384 -binary "$here/toktok.js" | base64 -w0)"
sed -i "s#<!-- integrity -->\`[^\`]*\`<!-- /integrity -->#<!-- integrity -->\`$sri\`<!-- /integrity -->#" "$here/README.md"
echo "$sri"
