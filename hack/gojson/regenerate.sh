#!/bin/sh
# Regenerate the Go JSON type tables and the hash test vectors.
#
#   hack/gojson/regenerate.sh          write into the repository
#   hack/gojson/regenerate.sh DEST     write the same four files under DEST
#                                      (the integration test compares them)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dest=${1:-$repo}
export GOTOOLCHAIN=local

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && go build -o "$work/gojson" .)

mkdir -p "$dest/rollouts/data" "$dest/tests/unit/data"
"$work/gojson" table pod "$dest/rollouts/data/gojson_podtemplatespec.json"
"$work/gojson" table steps "$dest/rollouts/data/gojson_canarysteps.json"
"$work/gojson" podvectors "$repo/tests/unit/data/podtemplates" "$dest/tests/unit/data/podhash_vectors.json"
"$work/gojson" stepvectors "$repo/tests/unit/data/steps" "$dest/tests/unit/data/stephash_vectors.json"
