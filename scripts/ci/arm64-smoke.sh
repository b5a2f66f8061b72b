#!/usr/bin/env bash
# Builds what an arm64 (Pi) bundle carries on this x64 machine and runs it under qemu-user:
# Node 24 for arm64 from the npm registry, the production node_modules with better-sqlite3
# cross-compiled from source by Debian's aarch64 toolchain (serialport's bindings-cpp ships
# linux-arm64 prebuilds in its package), and the built agent. Under emulation it checks a small
# config with the agent's own CLI and runs arm64-smoke.js (the outbox in WAL mode, a serial line
# read from a pty), then makes it a signed arm64 release bundle with its own Node and runs that
# bundle's CLI. Needs a built checkout (npm run build) and root for apt-get when the toolchain is
# missing.
#
# Usage: scripts/ci/arm64-smoke.sh [WORKDIR]   (default: a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
chmod 755 "$work"
say() { printf 'arm64-smoke: %s\n' "$*"; }

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v socat >/dev/null || need+=(socat)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "arm64-smoke: needs ${need[*]} (apt-get install, as root)" >&2; exit 1; }
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
[ -f dist/scripts/ci/arm64-smoke.js ] || { echo "arm64-smoke: build first (npm run build)" >&2; exit 1; }

node_arm64=$(scripts/ci/fetch-node.sh arm64 "$work")
say "Node for arm64: $node_arm64 ($(head -c 200 "$node_arm64/package.json" | tr -d '\n' | sed 's/.*"version": *"\([^"]*\)".*/\1/'))"

# The bundle's folder: what install.sh --from takes (package.json, dist/, config/, flows/, node_modules).
bundle="$work/bundle"
rm -rf "$bundle" && mkdir -p "$bundle"
cp package.json package-lock.json "$bundle/"
cp -r dist config flows "$bundle/"
cross=(npm_config_arch=arm64 npm_config_target_arch=arm64 npm_config_nodedir="$node_arm64"
  npm_config_build_from_source=true CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++
  LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar)
# --ignore-scripts: our own `prepare` (a build) must not run in the bundle; the one native add-on
# that needs building is rebuilt below with the cross toolchain.
(cd "$bundle" && env "${cross[@]}" npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
say "cross-building better-sqlite3 for aarch64"
(cd "$bundle" && env "${cross[@]}" npm rebuild better-sqlite3 --loglevel=error >/dev/null)
addon="$bundle/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
machine=$(aarch64-linux-gnu-readelf -h "$addon" | sed -n 's/^ *Machine: *//p')
[ "$machine" = AArch64 ] || { echo "arm64-smoke: $addon is built for '$machine', not AArch64" >&2; exit 1; }
say "better-sqlite3 add-on: $machine"

run_arm64() { (cd "$bundle" && qemu-aarch64 -L /usr/aarch64-linux-gnu "$node_arm64/bin/node" "$@"); }
run_arm64 -p '`${process.arch} ${process.version}`'
mkdir -p "$work/data"
cat >"$work/smoke.yaml" <<YAML
version: 1
gateway: { id: arm64-smoke }
dataDir: $work/data
mqtt: { url: "mqtt://127.0.0.1:1883" }
devices:
  - { id: panel, driver: synthetic }
YAML
run_arm64 dist/agent/cli.js check-config "$work/smoke.yaml"

# A pty pair: the arm64 process reads one end as a serial device; this shell writes the other.
ptys="$work/pty"
rm -rf "$ptys" && mkdir -p "$ptys"
socat -d -d "pty,raw,echo=0,link=$ptys/device" "pty,raw,echo=0,link=$ptys/gateway" 2>"$ptys/socat.log" &
socat_pid=$!
trap 'kill $socat_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -e "$ptys/gateway" ] && [ -e "$ptys/device" ] && break; sleep 0.1; done
line="KEY,ALARM,$(date +%s)"
out="$work/smoke.out"
run_arm64 dist/scripts/ci/arm64-smoke.js --pty "$(readlink -f "$ptys/gateway")" --expect "$line" >"$out" &
smoke_pid=$!
for _ in $(seq 600); do grep -q 'pty open' "$out" 2>/dev/null && break; sleep 0.2; done
printf '%s\n' "$line" >"$ptys/device"
wait $smoke_pid || { cat "$out"; echo "arm64-smoke: the smoke run failed" >&2; exit 1; }
tail -1 "$out"

# The same folder as a signed arm64 release bundle with its own Node (scripts/release/make-bundle),
# signed by a throwaway key; the bundle's own Node runs its own CLI under emulation.
cp -r deploy docs README.md "$bundle/"
mkdir -p "$bundle/scripts" && cp scripts/install.sh "$bundle/scripts/"
rm -rf "$work/keys" && node dist/scripts/release/keygen.js "$work/keys" >/dev/null
rm -rf "$work/release"
node dist/scripts/release/make-bundle.js --from "$bundle" --out "$work/release" --arch arm64 --node "$node_arm64" \
  --key "$work/keys/county-update.key" --tar >"$work/bundle.json"
release=$(ls -d "$work"/release/village-gateway-*-arm64)
(cd "$release" && qemu-aarch64 -L /usr/aarch64-linux-gnu node/bin/node dist/agent/cli.js check-config "$work/smoke.yaml")
say "signed arm64 bundle: $(du -sm "$release" | cut -f1) MB, $(find "$release" -type f | wc -l) files; .tar.gz $(du -m "$release.tar.gz" | cut -f1) MB (Node included)"
