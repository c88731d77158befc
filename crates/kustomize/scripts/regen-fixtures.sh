#!/bin/sh
# Records what the reference kustomize prints for every fixture folder:
# expected.yaml on success, expected.err (its error message) on failure.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kustomize=$("$here/../../testbed/build.sh" | tail -n 1)/kustomize
for d in "$here"/tests/fixtures/*/; do
	rm -f "$d/expected.yaml" "$d/expected.err"
	if "$kustomize" build "$d" >"$d/expected.yaml" 2>/tmp/regen.err; then
		:
	else
		rm -f "$d/expected.yaml"
		sed "s#$d##g" /tmp/regen.err >"$d/expected.err"
	fi
done
