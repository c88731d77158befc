#!/usr/bin/env bash
# Re-pins testbed/kube to another Kubernetes release: k8s.io/kubernetes requires its
# staging modules at v0.0.0 and replaces them with ./staging/..., which a module
# depending on it cannot use, so every staging module is replaced by its published
# v0.X.Y. The list comes from that release's own go.mod, so none is missed.
#   testbed/kube/bump.sh 1.37.2
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
v=${1:?usage: bump.sh 1.MINOR.PATCH}
export GOTOOLCHAIN=local
gomod=$(go mod download -json "k8s.io/kubernetes@v$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
go mod edit -require="k8s.io/kubernetes@v$v"
awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod" | while read -r m; do
	go mod edit -replace="$m=$m@v0.${v#1.}"
done
go mod tidy
echo "testbed/kube now builds Kubernetes v$v; testbed/build.sh will rebuild it" >&2
