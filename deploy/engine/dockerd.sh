#!/usr/bin/env bash
# One Docker engine (dockerd) of Docker Coach: its storage, its daemon.json, its process.
#
#   dockerd.sh start                     storage ready, config written, dockerd running
#   dockerd.sh run                       the same, dockerd in the foreground (exec): the
#                                        entrypoint of a worker container
#   dockerd.sh stop [--unmount] [--purge]
#   dockerd.sh status                    prints driver, data root, quota, pools, free space
#
# The same code runs the machine's shared engine (deploy/engine/setup.sh), the throwaway
# engines of tests and benchmarks (deploy/engine/extra_engine.sh) and the production
# worker.  Everything is set through COACH_ENGINE_* variables (deploy/engine/README.md):
# instance paths here, daemon settings in daemon_config.py.
#
# With the btrfs driver the data root is a btrfs filesystem in a loop file, created once
# and mounted on every start, with quotas on: then `docker run --storage-opt size=…`
# caps a container's writable layer.
#
# `start` is idempotent.  An engine this script started whose settings changed is
# restarted (with live-restore its containers keep running); an engine started by someone
# else is never stopped: if it does not match the settings, start fails and says how to
# hand it over.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

NAME=${COACH_ENGINE_NAME:-shared}
SOCKET=${COACH_ENGINE_SOCKET:-/var/run/docker.sock}
EXEC_ROOT=${COACH_ENGINE_EXEC_ROOT:-/var/run/docker}
PIDFILE=${COACH_ENGINE_PIDFILE:-/run/docker-coach/dockerd.pid}
CONFIG=${COACH_ENGINE_CONFIG:-/etc/docker/daemon.json}
LOG=${COACH_ENGINE_LOG:-/var/log/docker-coach-dockerd.log}
DRIVER=${COACH_ENGINE_DRIVER:-btrfs}
DATA_ROOT=${COACH_ENGINE_DATA_ROOT:-/var/lib/docker-coach/docker}
LOOP_FILE=${COACH_ENGINE_LOOP_FILE:-$DATA_ROOT.btrfs}
LOOP_SIZE=${COACH_ENGINE_LOOP_SIZE:-auto}
LOOP_PREALLOCATE=${COACH_ENGINE_LOOP_PREALLOCATE:-false}
START_WAIT=${COACH_ENGINE_START_WAIT:-90}
STOP_WAIT=${COACH_ENGINE_STOP_WAIT:-60}
# A worker the coach reaches over the network: listen on TCP with mutual TLS.
TCP=${COACH_ENGINE_TCP:-}
TLS_DIR=${COACH_ENGINE_TLS_DIR:-}
export COACH_ENGINE_DRIVER=$DRIVER COACH_ENGINE_DATA_ROOT=$DATA_ROOT
STAMP="$PIDFILE.config"
GIB=$((1024 * 1024 * 1024))

log() { printf '[engine %s] %s\n' "$NAME" "$*"; }
warn() { printf '[engine %s] WARNING: %s\n' "$NAME" "$*" >&2; }
die() { printf '[engine %s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }
trap 'die "dockerd.sh failed at line $LINENO: $BASH_COMMAND"' ERR

[ "$(id -u)" = 0 ] || die "run me as root"

dock() { timeout "${DOCK_TIMEOUT:-15}" docker --host "unix://$SOCKET" "$@"; }
engine_up() { DOCK_TIMEOUT=10 dock info --format '{{.ID}}' >/dev/null 2>&1; }

# Pid of the dockerd this script started for this instance, if it still runs.
our_pid() {
    local pid
    [ -r "$PIDFILE" ] || return 1
    pid=$(tr -dc '0-9' <"$PIDFILE")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "dockerd.*--pidfile=$PIDFILE" || return 1
    printf '%s\n' "$pid"
}

wait_gone() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    return 1
}

human() { numfmt --to=iec-i --suffix=B "$1"; }

# ---------------------------------------------------------------------- storage
mounted_source() { { findmnt -n -o SOURCE --mountpoint "$DATA_ROOT" 2>/dev/null || true; } | tail -n 1; }
mounted_fstype() { { findmnt -n -o FSTYPE --mountpoint "$DATA_ROOT" 2>/dev/null || true; } | tail -n 1; }
quota_on() { [ -d "/sys/fs/btrfs/$(findmnt -n -o UUID --mountpoint "$DATA_ROOT" | tail -n 1)/qgroups" ]; }
loop_device() { { losetup -j "$LOOP_FILE" -O NAME -n 2>/dev/null || true; } | head -n 1; }

# Size in bytes of a new loop file: COACH_ENGINE_LOOP_SIZE (e.g. 32G) or, with "auto",
# 40 % of the free space where the file lives, between 8 GiB and 40 GiB.
loop_size_bytes() {
    local free size
    if [ "$LOOP_SIZE" != auto ]; then
        numfmt --from=iec "${LOOP_SIZE%B}" 2>/dev/null || die "COACH_ENGINE_LOOP_SIZE=$LOOP_SIZE: write e.g. 32G"
        return
    fi
    free=$(df --output=avail -B1 "$(dirname "$LOOP_FILE")" | tail -n 1)
    size=$((free * 40 / 100))
    ((size <= 40 * GIB)) || size=$((40 * GIB))
    if ((size < 8 * GIB)); then
        ((free / 2 >= 2 * GIB)) || die "only $(human "$free") free for $LOOP_FILE; set COACH_ENGINE_LOOP_SIZE"
        size=$((free / 2))
        warn "little free disk: the data root gets $(human "$size")"
    fi
    echo $((size / 1048576 * 1048576))
}

create_loop_file() {
    local size
    size=$(loop_size_bytes)
    mkdir -p "$(dirname "$LOOP_FILE")"
    if [ "$LOOP_PREALLOCATE" = true ]; then
        fallocate -l "$size" "$LOOP_FILE.new"
    else
        truncate -s "$size" "$LOOP_FILE.new"
    fi
    mkfs.btrfs -q -L "coach-$NAME" "$LOOP_FILE.new" >/dev/null
    mv "$LOOP_FILE.new" "$LOOP_FILE"
    log "storage: created $LOOP_FILE ($(human "$size") btrfs, $([ "$LOOP_PREALLOCATE" = true ] && echo preallocated || echo sparse))"
}

# The data root must be an empty directory before we mount over it: anything in it
# (e.g. what a dockerd wrote while the filesystem was not mounted) is moved aside, never
# deleted.
clear_mount_point() {
    local aside
    mkdir -p "$DATA_ROOT"
    [ -z "$(ls -A "$DATA_ROOT")" ] && return
    aside="$DATA_ROOT.unmounted-$(date +%Y%m%d%H%M%S)"
    mv "$DATA_ROOT" "$aside"
    mkdir -p "$DATA_ROOT"
    warn "$DATA_ROOT was not empty before mounting; its content was moved to $aside"
}

# Grow the loop file and the filesystem when COACH_ENGINE_LOOP_SIZE asks for more.
grow_if_asked() {
    local want have dev
    [ "$LOOP_SIZE" != auto ] || return 0
    want=$(loop_size_bytes)
    have=$(stat -c %s "$LOOP_FILE")
    if ((want < have)); then
        ((have - want < GIB)) || warn "COACH_ENGINE_LOOP_SIZE=$LOOP_SIZE is smaller than $LOOP_FILE ($(human "$have")); shrinking is not supported"
        return 0
    fi
    ((want > have)) || return 0
    dev=$(loop_device)
    truncate -s "$want" "$LOOP_FILE"
    losetup -c "$dev"
    btrfs filesystem resize max "$DATA_ROOT" >/dev/null
    log "storage: grew $LOOP_FILE from $(human "$have") to $(human "$want")"
}

# In a privileged container /dev is a copy made at start: a loop device the kernel
# allocates later has no node there, and `mount -o loop` fails. Make the next one.
ensure_loop_node() {
    local dev minor
    dev=$(losetup -f 2>/dev/null) || return 0
    [ -e "$dev" ] && return 0
    minor=${dev#/dev/loop}
    mknod "$dev" b 7 "$minor" && log "storage: created the device node $dev"
}

storage_btrfs() {
    local source fstype dev
    command -v mkfs.btrfs >/dev/null || die "mkfs.btrfs is missing: apt-get install btrfs-progs"
    grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || die "this kernel has no btrfs"
    source=$(mounted_source)
    fstype=$(mounted_fstype)
    dev=$(loop_device)
    if [ -n "$source" ]; then
        [ "$fstype" = btrfs ] && [ -n "$dev" ] && [ "$source" = "$dev" ] ||
            die "$DATA_ROOT is already a mount point of $source ($fstype), not of $LOOP_FILE; unmount it or choose another COACH_ENGINE_DATA_ROOT"
    else
        [ -e "$LOOP_FILE" ] || create_loop_file
        clear_mount_point
        ensure_loop_node
        # discard: blocks btrfs frees are punched out of the sparse file, so the host
        # gets its space back when containers and images are removed.
        mount -o loop,noatime,discard=async "$LOOP_FILE" "$DATA_ROOT"
        log "storage: mounted $LOOP_FILE on $DATA_ROOT ($(loop_device))"
    fi
    grow_if_asked
    # Docker's btrfs driver would switch quotas on at the first --storage-opt size; do it
    # now so that the first sandbox does not pay for the scan and `status` can tell.
    if ! quota_on; then
        btrfs quota enable "$DATA_ROOT"
        log "storage: btrfs quota enabled on $DATA_ROOT"
    fi
    # Qgroups of removed containers stay behind ("stale"); drop them while we are here.
    btrfs qgroup clear-stale "$DATA_ROOT" >/dev/null 2>&1 || true
}

storage_plain() {
    local fstype
    mkdir -p "$DATA_ROOT"
    fstype=$(df --output=fstype "$DATA_ROOT" | tail -n 1)
    [ "$fstype" != btrfs ] || warn "$DATA_ROOT is on btrfs; overlay2 on btrfs is not supported by dockerd"
}

# ----------------------------------------------------------------------- daemon
CONFIG_DIGEST=""
DOCKERD_ARGS=()
write_config() {
    local out status
    out=$(python3 "$HERE/daemon_config.py" write "$CONFIG") || die "bad settings for $CONFIG (see above)"
    status=$(sed -n 1p <<<"$out")
    CONFIG_DIGEST=$(sed -n 2p <<<"$out")
    [ "${status%% *}" = unchanged ] || log "config: $CONFIG $status"
    DOCKERD_ARGS=("--pidfile=$PIDFILE" "--config-file=$CONFIG")
    [ "$SOCKET" = /var/run/docker.sock ] || DOCKERD_ARGS+=("--host=unix://$SOCKET")
    [ "$EXEC_ROOT" = /var/run/docker ] || DOCKERD_ARGS+=("--exec-root=$EXEC_ROOT")
    if [ -n "$TCP" ]; then
        [ -n "$TLS_DIR" ] || die "COACH_ENGINE_TCP=$TCP needs COACH_ENGINE_TLS_DIR (ca.pem, server-cert.pem, server-key.pem): an engine on TCP without mutual TLS is root for anyone who reaches the port"
        local pem
        for pem in ca.pem server-cert.pem server-key.pem; do
            [ -r "$TLS_DIR/$pem" ] || die "COACH_ENGINE_TLS_DIR=$TLS_DIR has no $pem"
        done
        [ "$SOCKET" != /var/run/docker.sock ] || DOCKERD_ARGS+=("--host=unix://$SOCKET")
        DOCKERD_ARGS+=("--host=tcp://$TCP" --tlsverify "--tlscacert=$TLS_DIR/ca.pem"
            "--tlscert=$TLS_DIR/server-cert.pem" "--tlskey=$TLS_DIR/server-key.pem")
    fi
}

wanted_stamp() { printf '%s %s\n' "$CONFIG_DIGEST" "${DOCKERD_ARGS[*]}" | sha256sum | cut -d' ' -f1; }

start_dockerd() {
    local pid i stale
    mkdir -p "$(dirname "$PIDFILE")" "$(dirname "$LOG")" "$(dirname "$SOCKET")"
    # A pidfile left by a killed dockerd/containerd may name a reused pid; dockerd would
    # then refuse to start.
    for stale in "$PIDFILE" "$EXEC_ROOT/containerd/containerd.pid"; do
        if [ -e "$stale" ]; then
            pid=$(tr -dc '0-9' <"$stale")
            grep -qsE 'dockerd|containerd' "/proc/$pid/comm" || rm -f "$stale"
        fi
    done
    printf '\n===== %s dockerd.sh starting dockerd %s\n' "$(date -Is)" "${DOCKERD_ARGS[*]}" >>"$LOG"
    setsid dockerd "${DOCKERD_ARGS[@]}" >>"$LOG" 2>&1 </dev/null &
    pid=$!
    for ((i = 0; i < START_WAIT * 5; i++)); do
        if engine_up; then
            wanted_stamp >"$STAMP"
            log "dockerd: started (pid $pid, $DRIVER on $DATA_ROOT, socket $SOCKET, log $LOG)"
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$LOG" | sed 's/^/    | /' >&2
            die "dockerd exited during start-up (log: $LOG)"
        fi
        sleep 0.2
    done
    tail -n 30 "$LOG" | sed 's/^/    | /' >&2
    die "dockerd did not answer within ${START_WAIT}s (log: $LOG)"
}

stop_dockerd() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    if ! wait_gone "$pid" "$STOP_WAIT"; then
        warn "dockerd (pid $pid) did not stop within ${STOP_WAIT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "dockerd (pid $pid) survives SIGKILL"
    fi
}

# What the running engine really is: "DRIVER DATA_ROOT".
running_identity() { dock info --format '{{.Driver}} {{.DockerRootDir}}' 2>/dev/null; }

check_running_engine() {
    local have
    have=$(running_identity) || die "the engine on $SOCKET does not answer docker info"
    [ "$have" = "$DRIVER $DATA_ROOT" ] ||
        die "the engine on $SOCKET runs '$have', wanted '$DRIVER $DATA_ROOT'"
}

prepare_storage() {
    case $DRIVER in
        btrfs) storage_btrfs ;;
        overlay2) storage_plain ;;
    esac
}

# Foreground: for a container whose PID 1 is this engine (SIGTERM stops dockerd cleanly).
cmd_run() {
    write_config
    ! engine_up || die "an engine already answers on $SOCKET"
    prepare_storage
    mkdir -p "$(dirname "$PIDFILE")" "$(dirname "$SOCKET")"
    rm -f "$PIDFILE"
    log "dockerd: running in the foreground ($DRIVER on $DATA_ROOT, ${DOCKERD_ARGS[*]})"
    exec dockerd "${DOCKERD_ARGS[@]}"
}

cmd_start() {
    local pid have
    write_config
    if engine_up; then
        if pid=$(our_pid); then
            if [ "$(cat "$STAMP" 2>/dev/null)" = "$(wanted_stamp)" ]; then
                [ "$DRIVER" != btrfs ] || storage_btrfs
                check_running_engine
                log "dockerd: already running (pid $pid, $DRIVER on $DATA_ROOT)"
                return
            fi
            have=$(running_identity || echo unknown)
            log "dockerd: settings changed (running: $have); restarting pid $pid"
            [ "$(dock info --format '{{.LiveRestoreEnabled}}' 2>/dev/null)" = true ] ||
                warn "the running engine has no live-restore: its running containers stop now"
            stop_dockerd "$pid"
        else
            have=$(running_identity || echo unknown)
            if [ "$have" = "$DRIVER $DATA_ROOT" ]; then
                warn "dockerd on $SOCKET was not started by this script; it already runs $have, so it is kept as it is ($CONFIG may be newer than what it loaded)"
                return
            fi
            die "a dockerd this script did not start answers on $SOCKET with '$have' (wanted '$DRIVER $DATA_ROOT'). Stop it (e.g. 'systemctl stop docker.socket docker', or deploy/engine/stop.sh if an older setup.sh started it) and run me again"
        fi
    fi
    prepare_storage
    start_dockerd
    check_running_engine
}

# stop [--unmount] [--purge]: --unmount also unmounts a btrfs data root (refused while
# containers still run, e.g. kept by live-restore); --purge deletes the data root and the
# loop file (only for throwaway engines: it deletes every image, container and volume).
cmd_stop() {
    local unmount=0 purge=0 pid arg
    for arg in "$@"; do
        case $arg in
            --unmount) unmount=1 ;;
            --purge) unmount=1 purge=1 ;;
            *) die "stop: unknown option $arg" ;;
        esac
    done
    if pid=$(our_pid); then
        stop_dockerd "$pid"
        log "dockerd: stopped (pid $pid)"
    elif engine_up; then
        die "the engine on $SOCKET was not started by this script (no live pid in $PIDFILE); not stopping it"
    else
        log "dockerd: not running"
    fi
    rm -f "$PIDFILE" "$STAMP"
    [ "$unmount" = 1 ] || return 0
    if [ -n "$(mounted_source)" ]; then
        if ! umount "$DATA_ROOT" 2>/dev/null; then
            [ "$purge" = 1 ] || die "$DATA_ROOT is busy: containers kept by live-restore still run ('fuser -vm $DATA_ROOT' lists them); stop them first, or stop without --unmount"
            umount -R -l "$DATA_ROOT"
        fi
        log "storage: unmounted $DATA_ROOT"
    fi
    [ "$purge" = 1 ] || return 0
    rm -rf --one-file-system "$DATA_ROOT" "$LOOP_FILE" "$EXEC_ROOT"
    log "storage: deleted $DATA_ROOT $LOOP_FILE $EXEC_ROOT"
}

cmd_status() {
    local qgroups
    engine_up || { echo "engine: not answering on $SOCKET"; return 1; }
    dock info --format 'engine: {{.ServerVersion}} driver={{.Driver}} data-root={{.DockerRootDir}} live-restore={{.LiveRestoreEnabled}}'
    df -h --output=source,fstype,size,used,avail,pcent "$DATA_ROOT" | sed 's/^/  /'
    if [ "$(mounted_fstype)" = btrfs ]; then
        qgroups=off
        quota_on && qgroups="on, $(btrfs qgroup show "$DATA_ROOT" 2>/dev/null | tail -n +3 | wc -l) qgroups"
        echo "  btrfs quota: ${qgroups}, loop file $LOOP_FILE ($(du -h --apparent-size "$LOOP_FILE" | cut -f1) apparent, $(du -h "$LOOP_FILE" | cut -f1) allocated)"
    fi
    echo "  address pools: $(python3 "$HERE/daemon_config.py" capacity) networks ($(dock network ls -q | wc -l) in use)"
}

command=${1:-}
shift || true
case $command in
    start) cmd_start ;;
    run) cmd_run ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status ;;
    *) die "usage: dockerd.sh start | run | stop [--unmount] [--purge] | status" ;;
esac
