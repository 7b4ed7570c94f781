#!/usr/bin/env bash
# Stop what deploy/engine/setup.sh started: the search index, dockerd and the
# registry (only processes named by its pidfiles under /run/docker-coach/).
#
#   deploy/engine/stop.sh                 # stop all three
#   deploy/engine/stop.sh search-index    # or just some: search-index dockerd registry
#   deploy/engine/stop.sh --unmount dockerd
#                                         # also unmount the engine's btrfs data root
#                                         # (refused while containers still run)
#
# The engine runs with live-restore: its containers keep running while dockerd is
# stopped, and the next setup.sh picks them up again.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR=/run/docker-coach
[ "$(id -u)" = 0 ] || { echo "[docker-coach] ERROR: run me as root" >&2; exit 1; }

log() { printf '[docker-coach] %s\n' "$*"; }

# stop NAME PIDFILE WORD SECONDS
stop() {
    local name=$1 pidfile=$2 word=$3 secs=$4 pid i
    if [ ! -r "$pidfile" ]; then
        log "$name: not started by setup.sh (no $pidfile)"
        return
    fi
    pid=$(tr -dc '0-9' <"$pidfile")
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/cmdline" ] ||
        ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$word"; then
        log "$name: not running (stale pidfile removed)"
        rm -f "$pidfile"
        return
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        log "$name: killed (pid $pid did not stop within ${secs}s)"
    else
        log "$name: stopped (pid $pid)"
    fi
    rm -f "$pidfile"
}

targets=()
dockerd_opts=()
for arg in "$@"; do
    case $arg in
        --unmount) dockerd_opts+=(--unmount) ;;
        *) targets+=("$arg") ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(search-index dockerd registry)
for t in "${targets[@]}"; do
    case $t in
        search-index) stop "search index" "$RUN_DIR/search-index.pid" search_index.py 10 ;;
        dockerd) bash "$HERE/dockerd.sh" stop "${dockerd_opts[@]}" ;;
        registry) stop registry "$RUN_DIR/registry.pid" docker-registry 10 ;;
        *) echo "[docker-coach] ERROR: unknown service '$t' (search-index, dockerd, registry)" >&2; exit 2 ;;
    esac
done
