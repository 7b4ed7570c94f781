#!/usr/bin/env bash
# Throwaway Docker engines for tests and benchmarks, beside the shared one.
#
#   extra_engine.sh start NAME [--driver btrfs|overlay2] [--size 4G] [--images busybox,...]
#   extra_engine.sh stop NAME         removes its containers, networks, data and mounts
#   extra_engine.sh halt NAME         stops its dockerd only (data, mounts and settings kept)
#   extra_engine.sh resume NAME       starts a halted engine again, as it was started
#   extra_engine.sh host NAME         prints its DOCKER_HOST (unix:///run/docker-coach/engines/NAME/docker.sock)
#   extra_engine.sh list
#
# An extra engine has its own socket, data root, exec root (and so its own containerd),
# pidfile, log and address pool (a free /16 in 10.210.0.0–10.249.0.0), no default bridge
# and no iptables rules, so it never touches the shared engine or its networks.
#   --driver btrfs     data root on its own sparse btrfs loop file (quotas on): enforces
#                      --storage-opt size like the shared engine
#   --driver overlay2  data root is a plain directory on the host's ext4: no quota support
#                      (what a worker without quotas looks like)
# Images come from the shared registry mirror (127.0.0.1:5000): plain names through the
# mirror, others (docker-coach/host) pulled by the mirror's address and tagged.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE=/var/lib/docker-coach/engines
RUN=/run/docker-coach/engines
REGISTRY=${COACH_ENGINE_REGISTRY:-127.0.0.1:5000}

die() { printf '[extra-engine] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: extra_engine.sh start NAME [--driver btrfs|overlay2] [--size 4G] [--images a,b] | stop NAME | halt NAME | resume NAME | host NAME | list"; }

[ "$(id -u)" = 0 ] || die "run me as root"
command=${1:-}
name=${2:-}
[ "$command" = list ] || [[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,23}$ ]] ||
    die "NAME must be 1-24 lowercase letters, digits or dashes (got '$name')"
shift 2 2>/dev/null || shift $#

# Environment for dockerd.sh: this engine's instance paths and settings.
engine_env() {
    export COACH_ENGINE_NAME="$name"
    export COACH_ENGINE_SOCKET="$RUN/$name/docker.sock"
    export COACH_ENGINE_EXEC_ROOT="$RUN/$name/exec"
    export COACH_ENGINE_PIDFILE="$RUN/$name/dockerd.pid"
    export COACH_ENGINE_CONFIG="$STATE/$name/daemon.json"
    export COACH_ENGINE_LOG="$STATE/$name/dockerd.log"
    export COACH_ENGINE_DATA_ROOT="$STATE/$name/root"
    export COACH_ENGINE_LOOP_FILE="$STATE/$name/root.btrfs"
    export COACH_ENGINE_BRIDGE=none COACH_ENGINE_IPTABLES=false
    export COACH_ENGINE_LIVE_RESTORE=false COACH_ENGINE_SHUTDOWN_TIMEOUT=2
    export COACH_ENGINE_MIRROR="http://$REGISTRY"
}

# A /16 no other extra engine holds (under a lock: tests may start engines in parallel).
claim_pool() {
    local n used
    exec 9>"$STATE/.pools.lock"
    flock 9
    if [ -s "$STATE/$name/pool" ]; then
        cat "$STATE/$name/pool"
    else
        used=$(cat "$STATE"/*/pool 2>/dev/null || true)
        for ((n = 210; n < 250; n++)); do
            if ! grep -qx "10.$n.0.0/16:26" <<<"$used"; then
                echo "10.$n.0.0/16:26" >"$STATE/$name/pool"
                echo "10.$n.0.0/16:26"
                break
            fi
        done
    fi
    exec 9>&-
}

pull_images() {
    local image ref
    IFS=, read -r -a wanted <<<"$1"
    for image in "${wanted[@]}"; do
        [ -n "$image" ] || continue
        if [[ "$image" == */* ]]; then
            ref="$REGISTRY/$image"
            docker --host "unix://$COACH_ENGINE_SOCKET" pull -q "$ref" >/dev/null ||
                die "could not pull $ref from the mirror (run deploy/engine/setup.sh first)"
            docker --host "unix://$COACH_ENGINE_SOCKET" tag "$ref" "$image"
        else
            docker --host "unix://$COACH_ENGINE_SOCKET" pull -q "$image" >/dev/null ||
                die "could not pull $image through the mirror $REGISTRY (run deploy/engine/setup.sh first)"
        fi
    done
}

cmd_start() {
    local driver=btrfs size=4G images="busybox,docker-coach/host" pool
    while [ $# -gt 0 ]; do
        case $1 in
            --driver) driver=${2:?}; shift 2 ;;
            --size) size=${2:?}; shift 2 ;;
            --images) images=${2-}; shift 2 ;;
            *) usage ;;
        esac
    done
    mkdir -p "$STATE/$name" "$RUN/$name"
    pool=$(claim_pool)
    [ -n "$pool" ] || die "every extra-engine address pool (10.210–10.249) is taken; stop an engine"
    engine_env
    export COACH_ENGINE_DRIVER="$driver" COACH_ENGINE_LOOP_SIZE="$size" COACH_ENGINE_ADDRESS_POOLS="$pool"
    printf '%s %s\n' "$driver" "$size" >"$STATE/$name/storage"
    bash "$HERE/dockerd.sh" start
    pull_images "$images"
    echo "unix://$COACH_ENGINE_SOCKET"
}

# Stop and start dockerd again with the same data (tests of engine restarts).
cmd_halt() {
    engine_env
    bash "$HERE/dockerd.sh" stop
}

cmd_resume() {
    local driver size
    [ -s "$STATE/$name/storage" ] || die "no engine $name was started by this script"
    read -r driver size <"$STATE/$name/storage"
    engine_env
    export COACH_ENGINE_DRIVER="$driver" COACH_ENGINE_LOOP_SIZE="$size"
    COACH_ENGINE_ADDRESS_POOLS="$(cat "$STATE/$name/pool")"
    export COACH_ENGINE_ADDRESS_POOLS
    bash "$HERE/dockerd.sh" start
    echo "unix://$COACH_ENGINE_SOCKET"
}

cmd_stop() {
    local ids
    engine_env
    if [ -S "$COACH_ENGINE_SOCKET" ] && docker --host "unix://$COACH_ENGINE_SOCKET" info >/dev/null 2>&1; then
        ids=$(docker --host "unix://$COACH_ENGINE_SOCKET" ps -aq)
        [ -z "$ids" ] || docker --host "unix://$COACH_ENGINE_SOCKET" rm -f -v $ids >/dev/null || true
        # User-defined networks are Linux bridges on the host: remove them while the
        # engine can, or they outlive it.
        docker --host "unix://$COACH_ENGINE_SOCKET" network prune -f >/dev/null || true
    fi
    bash "$HERE/dockerd.sh" stop --purge
    rm -rf --one-file-system "${STATE:?}/$name" "${RUN:?}/$name"
}

case $command in
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    halt) cmd_halt ;;
    resume) cmd_resume ;;
    host) echo "unix://$RUN/$name/docker.sock" ;;
    list) for d in "$STATE"/*/; do [ -d "$d" ] && basename "$d"; done; true ;;
    *) usage ;;
esac
