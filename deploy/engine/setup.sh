#!/usr/bin/env bash
# Docker Coach engine setup: a local Docker engine that works without Docker Hub.
#
#   * installs docker.io, docker-registry, busybox-static, iptables, btrfs-progs (if missing)
#   * runs a registry on 127.0.0.1:5000 and makes it dockerd's registry mirror
#   * starts dockerd through dockerd.sh: data root on a btrfs loop file with quotas (so
#     --storage-opt size=… caps a container's disk), address pools for 1024 networks,
#     live-restore, log caps; an engine an older setup.sh started is migrated
#   * builds BusyBox-based stand-in images (busybox, alpine, nginx, httpd, redis,
#     docker-coach/host) and pushes them to the mirror
#   * checks that the engine enforces --storage-opt size
#   * runs a stand-in Docker Hub search index on 127.0.0.1:5001
#
# Idempotent: rerun it any time (as root).  COACH_ENGINE_* variables tune the engine
# (deploy/engine/README.md lists them all).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR=/var/lib/docker-coach
RUN_DIR=/run/docker-coach
REGISTRY_ADDR=127.0.0.1:5000
MIRROR_URL="http://$REGISTRY_ADDR"
SEARCH_HOST=127.0.0.1
SEARCH_PORT=5001
REGISTRY_LOG=/var/log/docker-coach-registry.log
SEARCH_LOG=/var/log/docker-coach-search-index.log
REGISTRY_PIDFILE="$RUN_DIR/registry.pid"
SEARCH_PIDFILE="$RUN_DIR/search-index.pid"
REGISTRY_CONFIG="$STATE_DIR/registry.yml"
SEARCH_DIR="$STATE_DIR/search-index"
# The docker CLI here and in build_images.py talks to the engine dockerd.sh sets up.
export DOCKER_HOST="unix://${COACH_ENGINE_SOCKET:-/var/run/docker.sock}"
SERVICE_WAIT=30

START_TS=$(date +%s)
WARNINGS=()
POLICY_RC_CREATED=0

log() { printf '[docker-coach] %s\n' "$*"; }
warn() { printf '[docker-coach] WARNING: %s\n' "$*" >&2; WARNINGS+=("$*"); }
die() { printf '[docker-coach] ERROR: %s\n' "$*" >&2; exit 1; }
cleanup() {
    if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
trap 'die "setup.sh failed at line $LINENO: $BASH_COMMAND"' ERR

[ "$(id -u)" = 0 ] || die "run me as root"

# pid_of PIDFILE WORD -> prints the pid if the pidfile names a live process whose
# command line contains WORD (guards against stale pidfiles and reused pids).
pid_of() {
    local pidfile=$1 word=$2 pid
    [ -r "$pidfile" ] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$word" || return 1
    printf '%s\n' "$pid"
}

# stop_pid PID SECONDS: TERM, wait, then KILL.
stop_pid() {
    local pid=$1 secs=$2 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < secs * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
}

log_tail() { [ -r "$1" ] && tail -n "${2:-25}" "$1" | sed 's/^/    | /' >&2 || true; }

http_ok() { curl -fsS -m 3 -o /dev/null "$1" 2>/dev/null; }
# http_code URL -> HTTP status, 000 if nothing answers
http_code() { curl -sS -m 3 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true; }

# --------------------------------------------------------------------- packages
step_packages() {
    local need=()
    command -v dockerd >/dev/null && command -v docker >/dev/null || need+=(docker.io)
    command -v docker-registry >/dev/null || need+=(docker-registry)
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
    command -v iptables >/dev/null || need+=(iptables)
    command -v mkfs.btrfs >/dev/null || need+=(btrfs-progs)
    command -v curl >/dev/null || need+=(curl)
    # the host shell's port forwarder (deploy/worker/host/coach-portd.c) is built static
    command -v gcc >/dev/null || need+=(gcc libc6-dev)
    command -v musl-gcc >/dev/null || need+=(musl-tools)
    command -v python3 >/dev/null || need+=(python3)
    [ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
    if grep -qs Y /sys/module/apparmor/parameters/enabled && ! command -v apparmor_parser >/dev/null; then
        need+=(apparmor)
    fi
    if [ ${#need[@]} -eq 0 ]; then
        log "packages: already installed"
        return
    fi
    log "packages: installing ${need[*]}"
    mkdir -p "$STATE_DIR"
    # Keep the packages' init scripts from starting services (we start our own).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}"; } \
        >"$STATE_DIR/apt.log" 2>&1; then
        log_tail "$STATE_DIR/apt.log"
        die "apt-get install ${need[*]} failed (full log: $STATE_DIR/apt.log)"
    fi
    cleanup
    POLICY_RC_CREATED=0
}

# --------------------------------------------------------------------- registry
step_registry() {
    local cfg_changed=0 pid code i
    mkdir -p "$STATE_DIR/registry" "$RUN_DIR"
    local want
    want=$(cat <<EOF
# Written by deploy/engine/setup.sh (Docker Coach): local mirror for library images.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
  fields:
    service: docker-coach-registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $STATE_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
)
    if [ ! -f "$REGISTRY_CONFIG" ] || [ "$(cat "$REGISTRY_CONFIG")" != "$want" ]; then
        printf '%s\n' "$want" >"$REGISTRY_CONFIG"
        cfg_changed=1
    fi

    if http_ok "http://$REGISTRY_ADDR/v2/"; then
        if [ "$cfg_changed" = 1 ] && pid=$(pid_of "$REGISTRY_PIDFILE" docker-registry); then
            log "registry: config changed, restarting ours (pid $pid)"
            stop_pid "$pid" 10
        else
            log "registry: already answering on $REGISTRY_ADDR"
            return
        fi
    fi
    code=$(http_code "http://$REGISTRY_ADDR/v2/")
    if [ "$code" != 000 ]; then
        die "something on $REGISTRY_ADDR answers /v2/ with HTTP $code (not our open registry); stop it and rerun"
    fi
    setsid docker-registry serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$REGISTRY_PIDFILE"
    for ((i = 0; i < SERVICE_WAIT * 4; i++)); do
        if http_ok "http://$REGISTRY_ADDR/v2/"; then
            log "registry: started on $REGISTRY_ADDR (pid $pid, data $STATE_DIR/registry)"
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    log_tail "$REGISTRY_LOG"
    die "registry did not come up on $REGISTRY_ADDR (log: $REGISTRY_LOG)"
}

# ---------------------------------------------------------------------- dockerd
# dockerd.sh owns the engine: btrfs data root on a loop file with quotas, daemon.json
# (mirror, address pools, live-restore, log caps), start/restart.  It restarts an engine
# an older setup.sh started (overlay2 on /var/lib/docker) into the new one: that is the
# migration.
mirror_active() {
    timeout 15 docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null | grep -q "${REGISTRY_ADDR//./\\.}"
}

step_dockerd() {
    bash "$HERE/dockerd.sh" start || die "the Docker engine did not start (see above)"
    mirror_active || die "the engine does not use the registry mirror $MIRROR_URL (is COACH_ENGINE_MIRROR set to something else?)"
}

# The engine really caps a container's writable layer (btrfs quota), or says it does not.
step_quota_probe() {
    local id
    if [ "${COACH_ENGINE_DRIVER:-btrfs}" != btrfs ]; then
        warn "COACH_ENGINE_DRIVER=${COACH_ENGINE_DRIVER}: the engine does not cap containers' disk use"
        return
    fi
    if ! id=$(docker create --storage-opt size=16M --label org.docker-coach.probe=quota busybox true 2>"$STATE_DIR/quota-probe.err"); then
        die "the engine refuses --storage-opt size: $(cat "$STATE_DIR/quota-probe.err")"
    fi
    docker rm "$id" >/dev/null
    log "quota: the engine enforces --storage-opt size (btrfs qgroups)"
}

# An older setup.sh ran the engine on /var/lib/docker (overlay2, on the host's disk). Its
# data is left where it is (containers and volumes someone may still want); say once how
# to reclaim the space.
note_old_data_root() {
    local old=/var/lib/docker marker="$STATE_DIR/old-data-root-noted"
    [ "$DOCKER_HOST" = unix:///var/run/docker.sock ] || return 0
    [ "${COACH_ENGINE_DATA_ROOT:-/var/lib/docker-coach/docker}" != "$old" ] || return 0
    [ -d "$old/overlay2" ] && [ ! -e "$marker" ] || return 0
    log "note: the previous engine's data (overlay2) stays in $old, no longer used by this engine;" \
        "once nothing in it is needed: rm -rf $old/* (size: du -sh $old)"
    touch "$marker"
}

# ----------------------------------------------------------------------- images
step_images() {
    log "images: checking recipes (busybox alpine nginx httpd redis docker-coach/host)"
    python3 "$HERE/build_images.py" --registry "$REGISTRY_ADDR" || die "building/pushing base images failed"
    docker image inspect docker-coach/host:latest >/dev/null 2>&1 ||
        die "docker-coach/host:latest is missing after the build"
}

# ----------------------------------------------------------------- search index
step_search_index() {
    local url="http://$SEARCH_HOST:$SEARCH_PORT" pid headers want_cat want_src have_cat have_src code i
    mkdir -p "$SEARCH_DIR" "$RUN_DIR"
    # Run from a copy so the service does not depend on this work tree staying put.
    cmp -s "$HERE/search_index.py" "$SEARCH_DIR/search_index.py" ||
        install -m 0644 "$HERE/search_index.py" "$SEARCH_DIR/search_index.py"
    cmp -s "$HERE/search_catalog.json" "$SEARCH_DIR/search_catalog.json" ||
        install -m 0644 "$HERE/search_catalog.json" "$SEARCH_DIR/search_catalog.json"
    want_cat=$(sha256sum "$SEARCH_DIR/search_catalog.json" | cut -d' ' -f1)
    want_src=$(sha256sum "$SEARCH_DIR/search_index.py" | cut -d' ' -f1)

    if headers=$(curl -fsS -m 3 -D - -o /dev/null "$url/v1/_ping" 2>/dev/null); then
        have_cat=$(tr -d '\r' <<<"$headers" | awk -F': ' 'tolower($1)=="x-docker-coach-catalog"{print $2}')
        have_src=$(tr -d '\r' <<<"$headers" | awk -F': ' 'tolower($1)=="x-docker-coach-source"{print $2}')
        if [ "$have_cat" = "$want_cat" ] && [ "$have_src" = "$want_src" ]; then
            log "search index: already answering on $url"
            return
        fi
        if pid=$(pid_of "$SEARCH_PIDFILE" search_index.py); then
            log "search index: catalogue or code changed, restarting ours (pid $pid)"
            stop_pid "$pid" 10
        else
            warn "search index on $url is not ours and serves another catalogue; left alone"
            return
        fi
    fi
    code=$(http_code "$url/v1/_ping")
    [ "$code" = 000 ] || die "something else answers on $url (HTTP $code); stop it and rerun"
    setsid python3 "$SEARCH_DIR/search_index.py" --host "$SEARCH_HOST" --port "$SEARCH_PORT" \
        --catalog "$SEARCH_DIR/search_catalog.json" >>"$SEARCH_LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$SEARCH_PIDFILE"
    for ((i = 0; i < SERVICE_WAIT * 4; i++)); do
        if http_ok "$url/v1/_ping"; then
            log "search index: started on $url (pid $pid)"
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    log_tail "$SEARCH_LOG"
    die "search index did not come up on $url (log: $SEARCH_LOG)"
}

step_packages
mkdir -p "$STATE_DIR" "$RUN_DIR"
step_registry
step_dockerd
step_images
step_quota_probe
step_search_index
note_old_data_root

log "ready in $(($(date +%s) - START_TS))s: engine $(docker version --format '{{.Server.Version}}' 2>/dev/null)," \
    "mirror $MIRROR_URL, search index http://$SEARCH_HOST:$SEARCH_PORT," \
    "images busybox alpine nginx httpd redis (pull by plain name) + docker-coach/host:latest"
if [ ${#WARNINGS[@]} -gt 0 ]; then
    log "finished with ${#WARNINGS[@]} warning(s), see above"
fi
