#!/usr/bin/env bash
# Install the Debian packages the demo and the tests run for real, when missing:
# prometheus (analysis queries a real server), openssl (TLS test certificates), chromium (the
# dashboard's browser tests), util-linux (unshare). Go is needed too but not installed here:
# Debian's is older than the devcluster's Kubernetes needs, so a missing Go is an error.
set -euo pipefail
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v openssl >/dev/null || need+=(openssl)
command -v unshare >/dev/null || need+=(util-linux)
if [[ "${1:-}" == "--with-browser" ]]; then
  command -v chromium >/dev/null || need+=(chromium)
fi
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "system-deps: missing ${need[*]}; install them: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if ! command -v go >/dev/null; then
  echo "system-deps: Go >= 1.26 is required to build hack/devcluster; none on PATH" >&2
  exit 1
fi
