#!/usr/bin/env bash
# Fetches the Node.js project's own binaries for one architecture from the npm registry, where
# they are repackaged as node-linux-<arch>@<major> (bin/node and include/node, the headers native
# add-ons build against). `npm pack` rather than `npm install`: install refuses another
# architecture's package (EBADPLATFORM), and pack needs no project around it.
#
# Usage: scripts/ci/fetch-node.sh x64|arm64 DIR [MAJOR]   prints the unpacked package's folder
set -euo pipefail
arch="${1:?arch: x64 or arm64}"
dir="${2:?a folder to unpack into}"
major="${3:-24}"
case "$arch" in x64 | arm64) ;; *) echo "fetch-node: no Node package for arch $arch" >&2; exit 2 ;; esac
mkdir -p "$dir/node-$arch"
# The folder may be a mktemp one (0700): tests run Node as another user (the service user).
chmod 755 "$dir" "$dir/node-$arch"
tarball=$(cd "$dir" && npm pack --silent "node-linux-$arch@$major" | tail -1)
tar -xzf "$dir/$tarball" -C "$dir/node-$arch" --strip-components=1
rm -f "$dir/$tarball"
chmod -R go+rX "$dir/node-$arch"
[ -x "$dir/node-$arch/bin/node" ] || { echo "fetch-node: no bin/node in node-linux-$arch@$major" >&2; exit 1; }
echo "$dir/node-$arch"
