#!/usr/bin/env bash
# Installs (or upgrades) the village gateway on a Pi: the service user, /etc/village-gateway,
# /var/lib/village-gateway, a release under /opt/village-gateway/releases/<version> with a
# `current` link, the systemd unit and the `village-gateway` command. Idempotent: run it again
# and nothing changes. An upgrade adds a release, checks it can run (its CLI loads, the kept
# config validates) and only then switches `current` and restarts the service. The data folder
# (the outbox) and an existing config are never touched; `--rollback` goes back one release.
#
# Usage: scripts/install.sh [--from DIR] [--root DIR] [--no-start] [--keep N] [--rollback]
#   --from DIR   a built checkout or bundle (package.json, dist/, production node_modules);
#                default: the checkout this script is in. Nothing is downloaded.
#   --root DIR   install into DIR as if it were / (tests, image builds, a chroot): no systemctl.
#   --no-start   install and enable, but do not (re)start the service.
#   --keep N     releases kept (default 3; the current and previous always stay).
#   --rollback   switch `current` back to the previous release and restart.
set -euo pipefail

NAME=village-gateway
MIN_NODE=20.19
FROM="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT=""
START=yes
KEEP=3
ROLLBACK=no

say() { printf '%s: %s\n' "$NAME install" "$*"; }
die() {
  printf '%s: error: %s\n' "$NAME install" "$*" >&2
  exit 1
}
trap 'die "failed at line $LINENO (exit $?): $BASH_COMMAND"' ERR

while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM="${2:?--from needs a folder}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
    --no-start) START=no; shift ;;
    --keep) KEEP="${2:?--keep needs a number}"; shift 2 ;;
    --rollback) ROLLBACK=yes; shift ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -z "$ROOT" ] || ROOT="$(mkdir -p "$ROOT" && cd "$ROOT" && pwd)"
[ -n "$ROOT" ] || [ "$(id -u)" = 0 ] || die "run as root (sudo $0), or with --root DIR"

OPT="$ROOT/opt/$NAME"
ETC="$ROOT/etc/$NAME"
DATA="$ROOT/var/lib/$NAME"
LIVE=$([ -z "$ROOT" ] && [ -d /run/systemd/system ] && echo yes || echo no) # systemd runs this system

# --- Node: the one that runs the agent (in a chroot, the one inside it) -----------------------
# A signed bundle carries its own (node/bin/node): that one checks and runs the release, and the
# units find it through the `current` link, so an update can move the gateway to the next Node
# LTS and a rollback back again. Without one: $NODE, else the node on PATH.
RELEASE_NODE=node/bin/node
[ "$ROLLBACK" = yes ] || [ ! -x "$FROM/$RELEASE_NODE" ] || NODE="$FROM/$RELEASE_NODE"
# A rollback runs no release code: the running release's Node will do where the system has none.
[ "$ROLLBACK" = no ] || [ -n "${NODE:-}" ] || command -v node >/dev/null || NODE="$OPT/current/$RELEASE_NODE"
NODE="${NODE:-$(command -v node || true)}"
[ -n "$NODE" ] && [ -x "$NODE" ] || die "Node.js $MIN_NODE or newer is needed and no node was found on PATH (install it first: docs/technician.md, Install on a Pi)"
NODE_VERSION="$("$NODE" -p 'process.versions.node' 2>/dev/null)" || die "$NODE does not run"
IFS=. read -r major minor _ <<<"$NODE_VERSION"
IFS=. read -r need_major need_minor <<<"$MIN_NODE"
[[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || die "$NODE reports an odd version \"$NODE_VERSION\""
((major > need_major || (major == need_major && minor >= need_minor))) ||
  die "Node.js $MIN_NODE or newer is needed; $NODE is $NODE_VERSION (install a newer one first: docs/technician.md, Install on a Pi)"
# Where the units look for node: the current release's own (through the link), or a node of this
# system, never one inside a release (it goes with its release, and its add-ons' ABI with it).
set_node_dir() { # $1: a release folder; sets NODE_DIR
  if [ -x "$1/$RELEASE_NODE" ]; then
    NODE_DIR="/opt/$NAME/current/$(dirname "$RELEASE_NODE")"
    return
  fi
  case "$NODE" in
    "$OPT"/* | "/opt/$NAME"/*) die "release $(basename "$1") carries no Node and $NODE belongs to another release: install Node.js $MIN_NODE or newer on this system first" ;;
  esac
  NODE_DIR="$(dirname "$NODE")"
}

# The command and the units of release $1, with NODE_DIR filled in (enabling them is the install's).
render() { sed "s#@NODE_DIR@#$NODE_DIR#g" "$1"; }
render_units() {
  local rel="$1" unit
  mkdir -p "$ROOT/usr/local/bin" "$ROOT/etc/systemd/system"
  render "$rel/deploy/$NAME.sh" >"$ROOT/usr/local/bin/$NAME.new" && chmod 0755 "$ROOT/usr/local/bin/$NAME.new"
  mv "$ROOT/usr/local/bin/$NAME.new" "$ROOT/usr/local/bin/$NAME"
  for unit in "$NAME.service" "$NAME-update.service" "$NAME-update.path" "$NAME-flows.service"; do
    [ -f "$rel/deploy/$unit" ] || continue
    render "$rel/deploy/$unit" >"$ROOT/etc/systemd/system/$unit.new" && mv "$ROOT/etc/systemd/system/$unit.new" "$ROOT/etc/systemd/system/$unit"
  done
}

restart_service() {
  if [ "$LIVE" = yes ] && [ "$START" = yes ]; then
    say "restarting $NAME (the agent flushes its outbox on SIGTERM)"
    systemctl restart "$NAME.service" || die "systemctl restart $NAME failed: see journalctl -u $NAME"
  fi
}

# Points `current` at a release in one rename (a crash leaves the old link or the new, never none).
switch_to() {
  ln -sfn "releases/$1" "$OPT/current.new"
  mv -T "$OPT/current.new" "$OPT/current"
}

if [ "$ROLLBACK" = yes ]; then
  [ -L "$OPT/previous" ] || die "no previous release to go back to (in $OPT)"
  back="$(basename "$(readlink "$OPT/previous")")"
  now="$(basename "$(readlink "$OPT/current")")"
  [ -d "$OPT/releases/$back" ] || die "the previous release $back is gone from $OPT/releases"
  set_node_dir "$OPT/releases/$back"
  switch_to "$back"
  ln -sfn "releases/$now" "$OPT/previous"
  render_units "$OPT/releases/$back" # its Node may not be the one the units name now
  [ "$LIVE" = no ] || systemctl daemon-reload
  say "rolled back: $now -> $back (node in $NODE_DIR)"
  restart_service
  exit 0
fi

# --- The release ------------------------------------------------------------------------------
for need in package.json dist/agent/cli.js node_modules config/gateway.example.yaml deploy/$NAME.service; do
  [ -e "$FROM/$need" ] || die "$FROM is not a built checkout or bundle ($need missing): run npm ci && npm run build there first"
done
VERSION="$("$NODE" -p 'require(process.argv[1]).version' "$FROM/package.json")"
[[ "$VERSION" =~ ^[0-9A-Za-z.+-]+$ ]] || die "unusable version \"$VERSION\" in $FROM/package.json"
ITEMS=(package.json dist/core dist/agent dist/config dist/drivers dist/flows config flows deploy node_modules)
# Shipped when the release has them: the readers' pages (the units' Documentation= names
# docs/technician.md); the update step (dist/scripts/release) and this script, which it runs to
# switch and roll back; from a signed bundle its manifest (the next update's base) and its Node.
DOC_ITEMS=(README.md docs dist/scripts/release scripts/install.sh manifest.json manifest.sig node)
# What identifies a build: the same version with other files is installed again.
fingerprint() { (cd "$1" && find package.json dist/core dist/agent dist/config dist/drivers dist/flows $([ ! -d dist/scripts/release ] || echo dist/scripts/release) -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
FP="$(fingerprint "$FROM")"
# An upgrade must accept the config that runs, before anything is copied (secrets and
# certificate files are checked when the agent starts).
if [ -e "$ETC/gateway.yaml" ]; then
  problems="$(cd / && "$NODE" "$FROM/dist/agent/cli.js" check-config "$ETC/gateway.yaml" --schema-only 2>&1)" ||
    die "release $VERSION does not accept $ETC/gateway.yaml (nothing switched):
$problems"
fi
REL="$OPT/releases/$VERSION"
NEW_BUILD=no
mkdir -p "$OPT/releases"
if [ -f "$REL/.fingerprint" ] && [ "$(cat "$REL/.fingerprint")" = "$FP" ]; then
  say "release $VERSION is already installed (same build)"
else
  say "installing release $VERSION from $FROM"
  NEW_BUILD=yes
  STAGE="$OPT/releases/.$VERSION.new"
  rm -rf "$STAGE" && mkdir -p "$STAGE"
  for doc in "${DOC_ITEMS[@]}"; do [ -e "$FROM/$doc" ] && ITEMS+=("$doc"); done
  for item in "${ITEMS[@]}"; do
    # Contents, never links: a release must not share a file with where it came from.
    mkdir -p "$(dirname "$STAGE/$item")"
    if [ -d "$FROM/$item" ]; then mkdir -p "$STAGE/$item" && cp -a "$FROM/$item/." "$STAGE/$item/"; else cp -aL "$FROM/$item" "$STAGE/$item"; fi
  done
  # Dev tools (typescript, vitest, eslint) are not shipped; prune only deletes, so it works offline.
  if command -v npm >/dev/null && [ -f "$FROM/package-lock.json" ]; then
    cp -aL "$FROM/package-lock.json" "$STAGE/"
    (cd "$STAGE" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null) ||
      die "npm prune in $STAGE failed (nothing switched)"
  fi
  echo "$FP" >"$STAGE/.fingerprint"
  # The new release must run here before anything points at it (a native module built for
  # another CPU, a missing file): `--version` loads the CLI with SQLite and serialport.
  got="$(cd / && "$NODE" "$STAGE/dist/agent/cli.js" --version 2>&1)" ||
    die "release $VERSION does not run on this machine (nothing switched):
$got"
  [ "$got" = "$VERSION" ] || die "release $VERSION reports version \"$got\" (nothing switched)"
  rm -rf "$REL.old" && { [ ! -e "$REL" ] || mv "$REL" "$REL.old"; }
  mv "$STAGE" "$REL"
  rm -rf "$REL.old"
fi

# --- The service user and folders --------------------------------------------------------------
mkdir -p "$ROOT/etc"
if command -v systemd-sysusers >/dev/null; then
  mkdir -p "$ROOT/etc/sysusers.d"
  cp "$REL/deploy/$NAME.sysusers" "$ROOT/etc/sysusers.d/$NAME.conf"
  systemd-sysusers ${ROOT:+--root="$ROOT"} "$ROOT/etc/sysusers.d/$NAME.conf" ||
    die "systemd-sysusers could not create the user $NAME"
elif ! grep -q "^$NAME:" "$ROOT/etc/passwd" 2>/dev/null; then
  useradd ${ROOT:+--root "$ROOT"} --system --user-group --home-dir "/var/lib/$NAME" --no-create-home \
    --shell /usr/sbin/nologin --comment "Village gateway agent" "$NAME" || die "useradd could not create the user $NAME"
fi
# The flows' own user (Node-RED in village-gateway-flows.service); the agent joins its group.
if ! grep -q "^$NAME-flows:" "$ROOT/etc/passwd" 2>/dev/null; then
  useradd ${ROOT:+--root "$ROOT"} --system --user-group --home-dir "/var/lib/$NAME-flows" --no-create-home \
    --shell /usr/sbin/nologin --comment "Village gateway flows (Node-RED)" "$NAME-flows" ||
    die "useradd could not create the user $NAME-flows"
fi
if ! awk -F: -v g="$NAME-flows" -v u="$NAME" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) f = 1 } END { exit !f }' "$ROOT/etc/group"; then
  usermod ${ROOT:+--root "$ROOT"} -a -G "$NAME-flows" "$NAME" || die "usermod could not add $NAME to the group $NAME-flows"
fi
# Numbers from the target's own passwd: in --root mode the names mean nothing to this machine.
USER_ID="$(awk -F: -v n="$NAME" '$1 == n { print $3 }' "$ROOT/etc/passwd")"
GROUP_ID="$(awk -F: -v n="$NAME" '$1 == n { print $4 }' "$ROOT/etc/passwd")"
[ -n "$USER_ID" ] || die "the user $NAME is not in $ROOT/etc/passwd after creating it"

# Root's, group-writable with the sticky bit: the agent keeps gateway.yaml.last-good here (its
# fallback for a bad edit) and can touch only its own files.
install -d -m 1770 -o 0 -g "$GROUP_ID" "$ETC"
# The data folder itself only: what is inside (the outbox) is the agent's and stays as it is.
install -d -m 0750 -o "$USER_ID" -g "$GROUP_ID" "$DATA"
install -m 0644 "$REL/config/gateway.example.yaml" "$ETC/gateway.example.yaml"
if [ -e "$ETC/gateway.yaml" ]; then
  say "kept the config $ETC/gateway.yaml"
else
  install -m 0640 -o 0 -g "$GROUP_ID" "$REL/config/gateway.example.yaml" "$ETC/gateway.yaml"
  say "installed an example config as $ETC/gateway.yaml: edit it, then: village-gateway check-config"
fi

# --- The command, the unit, the switch ----------------------------------------------------------
set_node_dir "$REL"
render_units "$REL"
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sfn "/etc/systemd/system/$NAME.service" "$ROOT/etc/systemd/system/multi-user.target.wants/$NAME.service"
# The update step (root) and the path unit that starts it when the agent stages an update.
if [ -f "$REL/deploy/$NAME-update.path" ]; then
  mkdir -p "$ROOT/etc/systemd/system/paths.target.wants"
  ln -sfn "/etc/systemd/system/$NAME-update.path" "$ROOT/etc/systemd/system/paths.target.wants/$NAME-update.path"
fi
# The flows' own unit: installed always, enabled only when the config says nodeRed.launch: systemd
# (it then starts with the agent: WantedBy= and PartOf= the agent's unit). With launch: spawn, or
# no Node-RED, it stays disabled: it would only idle (~46 MB) retrying a socket nobody listens on.
FLOWS_UNIT="$ROOT/etc/systemd/system/$NAME-flows.service"
FLOWS_WANTS="$ROOT/etc/systemd/system/$NAME.service.wants"
FLOWS_ON=no
# A line `launch: systemd` (only nodeRed has a launch key) in the config that runs.
grep -Eq '^[[:space:]]+launch:[[:space:]]*["'"'"']?systemd["'"'"']?[[:space:]]*(#.*)?$' "$ETC/gateway.yaml" 2>/dev/null && FLOWS_ON=yes
rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/$NAME-flows.service" # where releases before this one enabled it
if [ -f "$REL/deploy/$NAME-flows.service" ]; then
  if [ "$FLOWS_ON" = yes ]; then
    mkdir -p "$FLOWS_WANTS"
    ln -sfn "/etc/systemd/system/$NAME-flows.service" "$FLOWS_WANTS/$NAME-flows.service"
    say "the flows' unit starts with the agent (nodeRed.launch: systemd)"
  else
    rm -f "$FLOWS_WANTS/$NAME-flows.service"
    say "the flows' unit stays disabled (the config does not set nodeRed.launch: systemd)"
  fi
fi

was="$(readlink "$OPT/current" 2>/dev/null || true)"
if [ "$was" != "releases/$VERSION" ]; then
  [ -z "$was" ] || ln -sfn "$was" "$OPT/previous"
  switch_to "$VERSION"
  say "current release: $VERSION${was:+ (was ${was#releases/})}"
  CHANGED=yes
else
  CHANGED=no
fi

# The flows' own unit (where installed) may not reach the device buses: IPAddressDeny with every
# Modbus TCP bus's address, from the config (docs/technician.md, "Node-RED"). No flows unit: nothing to do.
FLOWS_UNIT="$ROOT/etc/systemd/system/$NAME-flows.service"
if [ -e "$FLOWS_UNIT" ]; then
  mkdir -p "$FLOWS_UNIT.d"
  deny="$(cd / && "$NODE" "$OPT/current/dist/agent/cli.js" flows-unit --config "$ETC/gateway.yaml" 2>&1)" ||
    die "the flows' unit cannot be kept off the device buses: $deny"
  if ! printf '%s\n' "$deny" | cmp -s - "$FLOWS_UNIT.d/10-deny-buses.conf"; then
    printf '%s\n' "$deny" >"$FLOWS_UNIT.d/10-deny-buses.conf.new" && mv "$FLOWS_UNIT.d/10-deny-buses.conf.new" "$FLOWS_UNIT.d/10-deny-buses.conf"
    say "the flows may not reach the device buses: $FLOWS_UNIT.d/10-deny-buses.conf"
    CHANGED=yes
  fi
fi

# Old releases go, oldest first; the current and previous always stay.
keep_now="$(basename "$(readlink "$OPT/current")")"
keep_prev="$(basename "$(readlink "$OPT/previous" 2>/dev/null || echo none)")"
others="$(ls -1tr "$OPT/releases" | grep -v -e '^\.' -e '\.old$' | grep -vxF -e "$keep_now" -e "$keep_prev" || true)"
for old in $(printf '%s\n' "$others" | head -n "-$((KEEP > 2 ? KEEP - 2 : 0))"); do
  say "removing old release $old"
  rm -rf "${OPT:?}/releases/$old"
done

if [ "$LIVE" = yes ]; then
  systemctl daemon-reload
  systemctl enable "$NAME.service" >/dev/null 2>&1 || true # the wants link above is the same thing
  [ ! -f "$ROOT/etc/systemd/system/$NAME-update.path" ] || systemctl start "$NAME-update.path" || true
  if [ -f "$FLOWS_UNIT" ] && [ "$FLOWS_ON" = yes ]; then
    systemctl enable "$NAME-flows.service" >/dev/null 2>&1 || true
  elif [ -f "$FLOWS_UNIT" ]; then
    systemctl disable --now "$NAME-flows.service" >/dev/null 2>&1 || true
  fi
  if [ "$CHANGED" = yes ] || [ "$NEW_BUILD" = yes ] || ! systemctl is-active --quiet "$NAME.service"; then restart_service; fi
else
  say "systemd is not running here: the service starts at the next boot (enabled)"
fi
say "done: release $VERSION, node $NODE_VERSION ($NODE_DIR), config $ETC/gateway.yaml, data $DATA"
