#!/usr/bin/env bash
# Builds the Kubo IPFS daemon from source through the Go module proxy and caches the binary
# outside the clone, keyed by version. The npm `kubo` package downloads a prebuilt binary at
# install time, which this network refuses, so a source build is the only honest way in.
set -euo pipefail
KUBO_VERSION="${KUBO_VERSION:-v0.43.0}"
CACHE="${CRUCIBLE_CACHE:-$HOME/.cache/crucible}"
DEST="$CACHE/kubo/$KUBO_VERSION"
BIN="$DEST/ipfs"
if [[ -x "$BIN" ]] && "$BIN" version >/dev/null 2>&1; then
  echo "$BIN"; exit 0
fi
mkdir -p "$DEST"
# `go install pkg@version` refuses modules whose go.mod has `exclude` directives (recent kubo has them), and
# requiring kubo from a module of our own ignores those excludes, so minimal version selection picks versions
# kubo excluded (seen: webtransport.Dialer undefined). So we fetch kubo's module source through the Go module
# proxy and build it as the main module, where its own go.mod (excludes and replaces included) is in force.
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export GOFLAGS="-mod=mod -buildvcs=false"
SRC="$(cd "$WORK" && GO111MODULE=on go mod download -json "github.com/ipfs/kubo@$KUBO_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
cp -r "$SRC" "$WORK/kubo"
chmod -R u+w "$WORK/kubo"
cd "$WORK/kubo"
go build -trimpath -o "$BIN.tmp" ./cmd/ipfs >&2
mv "$BIN.tmp" "$BIN"
"$BIN" version >&2
echo "$BIN"
