#!/usr/bin/env bash
# Installs the Debian packages the tests run as real peers, when missing:
# git (file://, git daemon, http-backend), openssh-server (sshd for Git over SSH),
# openssl and curl (testbed/up), python3 (free ports, the smart-HTTP test server).
# Idempotent: does nothing when everything is there.
set -euo pipefail

missing=()
command -v git >/dev/null || missing+=(git)
[ -x /usr/lib/git-core/git-http-backend ] || missing+=(git)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "testbed/deps: installing ${missing[*]}" >&2
if [ "$(id -u)" != 0 ]; then
	echo "testbed/deps: need root to install ${missing[*]} (apt-get install ${missing[*]})" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
