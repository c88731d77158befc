#!/usr/bin/env bash
# Builds the real components skiff's tests run against, from Go modules pinned in
# the wrapper modules beside this script, and prints the folder holding them.
#
#   testbed/build.sh            build what is missing; last line of stdout is the bin folder
#   testbed/build.sh --key      print only the cache key
#
# Binaries are cached outside the repo in a folder keyed by the go version and
# every input of the build (go.mod, go.sum, sources, this script), so a change to
# any pin builds afresh and an unchanged tree links nothing. Progress goes to
# stderr so callers can take the folder from stdout. Safe to run concurrently:
# builds hold a lock, and each binary is moved into place only when complete.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GOTOOLCHAIN=local # the machine's Go; never download a toolchain
export GOFLAGS=-mod=readonly

# Versions stamped into binaries whose build normally sets them with ldflags.
# mod_version DIR MODULE: the version DIR/go.mod requires of MODULE.
mod_version() {
	awk -v m="$2" '($1 == "require" && $2 == m) {print $3; exit} ($1 == m) {print $2; exit}' "$here/$1/go.mod"
}
k8s_version=$(mod_version kube k8s.io/kubernetes)
helm_version=$(mod_version helm helm.sh/helm/v4)
if [ -z "$k8s_version" ] || [ -z "$helm_version" ]; then
	echo "testbed/build: cannot read the Kubernetes or Helm version from testbed/*/go.mod" >&2
	exit 1
fi

key() {
	{
		go version
		cat "$here/build.sh"
		for f in "$here"/*/go.mod "$here"/*/go.sum "$here"/*/*.go; do
			[ -f "$f" ] && { echo "== ${f#"$here"/}"; cat "$f"; }
		done
	} | sha256sum | cut -c1-16
}

if [ "${1:-}" = "--key" ]; then
	key
	exit 0
fi

# System packages first (sshd, git, openssl, ...); a no-op when present.
"$here/deps.sh"

cache=${SKIFF_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skiff-testbed}
bin="$cache/$(key)/bin"
mkdir -p "$bin"

log() { printf 'testbed/build: %s\n' "$*" >&2; }

# build MODULE_DIR OUTPUT_NAME PACKAGE [LDFLAGS]
build() {
	local mod=$1 out=$2 pkg=$3 ldflags=${4:-}
	[ -x "$bin/$out" ] && return 0
	local start=$SECONDS tmp
	tmp=$(mktemp -d "$bin/.build-$out.XXXXXX")
	log "building $out ($pkg)"
	(cd "$here/$mod" && go build -ldflags "-s -w $ldflags" -o "$tmp/$out" "$pkg")
	mv -f "$tmp/$out" "$bin/$out"
	rmdir "$tmp"
	log "built $out in $((SECONDS - start))s"
}

k8s_ldflags() {
	local v=$k8s_version major minor
	major=${v#v}; major=${major%%.*}
	minor=${v#v"$major".}; minor=${minor%%.*}
	local flags="" p
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
		flags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	echo "$flags"
}

(
	# One builder at a time per cache folder; others wait, then find the binaries.
	flock 9
	start=$SECONDS
	kf=$(k8s_ldflags)
	build kube etcd go.etcd.io/etcd/server/v3
	build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kf"
	build kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kf"
	build kube kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$kf"
	build helm helm helm.sh/helm/v4/cmd/helm "-X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
	build kustomize kustomize sigs.k8s.io/kustomize/kustomize/v5
	build kwok kwok sigs.k8s.io/kwok/cmd/kwok
	# kwok acts only through Stages; use its own "fast" set (nodes become Ready,
	# pods Running), rendered from the pinned module by the kustomize just built.
	if [ ! -s "$bin/kwok-stages.yaml" ]; then
		stages=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage/fast
		"$bin/kustomize" build "$stages" >"$bin/kwok-stages.yaml.tmp"
		mv -f "$bin/kwok-stages.yaml.tmp" "$bin/kwok-stages.yaml"
	fi
	build otelcol otelcol .
	if [ $((SECONDS - start)) -gt 0 ]; then log "done in $((SECONDS - start))s"; fi
) 9>"$cache/.lock"

echo "$bin"
