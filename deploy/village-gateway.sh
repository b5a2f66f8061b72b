#!/bin/sh
# `village-gateway` as installed (/usr/local/bin): the current release's CLI, with the installed
# config as the default --config. Run as root (a technician's sudo), it runs as the service user
# instead: a read of the outbox as root could leave root-owned files (SQLite's -shm) in the data
# folder, which the agent could then no longer write. scripts/install.sh fills in @NODE_DIR@.
VILLAGE_GATEWAY_CONFIG="${VILLAGE_GATEWAY_CONFIG:-/etc/village-gateway/gateway.yaml}"
PATH="@NODE_DIR@:$PATH"
export VILLAGE_GATEWAY_CONFIG PATH
cli=/opt/village-gateway/current/dist/agent/cli.js
if [ "$(id -u)" = 0 ]; then
  exec runuser -u village-gateway -- env PATH="$PATH" VILLAGE_GATEWAY_CONFIG="$VILLAGE_GATEWAY_CONFIG" "$cli" "$@"
fi
exec "$cli" "$@"
