#!/usr/bin/env bash
# Docker Coach engine setup: a local Docker engine that works without Docker Hub.
#
#   * installs docker.io, docker-registry, busybox-static, iptables (if missing)
#   * runs a registry on 127.0.0.1:5000 and makes it dockerd's registry mirror
#   * starts dockerd (overlay2, cgroupfs) if no engine answers
#   * builds BusyBox-based stand-in images (busybox, alpine, nginx, httpd, redis,
#     docker-coach/host) and pushes them to the mirror
#   * runs a stand-in Docker Hub search index on 127.0.0.1:5001
#
# Idempotent: rerun it any time (as root).  See deploy/engine/README.md.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR=/var/lib/docker-coach
RUN_DIR=/run/docker-coach
REGISTRY_ADDR=127.0.0.1:5000
MIRROR_URL="http://$REGISTRY_ADDR"
SEARCH_HOST=127.0.0.1
SEARCH_PORT=5001
DAEMON_JSON=/etc/docker/daemon.json
DOCKERD_LOG=/var/log/docker-coach-dockerd.log
REGISTRY_LOG=/var/log/docker-coach-registry.log
SEARCH_LOG=/var/log/docker-coach-search-index.log
DOCKERD_PIDFILE="$RUN_DIR/dockerd.pid"
REGISTRY_PIDFILE="$RUN_DIR/registry.pid"
SEARCH_PIDFILE="$RUN_DIR/search-index.pid"
REGISTRY_CONFIG="$STATE_DIR/registry.yml"
SEARCH_DIR="$STATE_DIR/search-index"
DOCKERD_WAIT=60
SERVICE_WAIT=30

START_TS=$(date +%s)
WARNINGS=()
POLICY_RC_CREATED=0
MIRROR_MISSING=0

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
    command -v curl >/dev/null || need+=(curl)
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

# ------------------------------------------------------------------ daemon.json
# Makes sure daemon.json lists our mirror (keeping every other key); prints the
# dockerd flags still needed on the command line (flags that daemon.json does not
# already set, since dockerd refuses a directive given both ways).
DOCKERD_FLAGS=()
step_daemon_json() {
    local out status
    mkdir -p "$(dirname "$DAEMON_JSON")"
    out=$(python3 - "$DAEMON_JSON" "$MIRROR_URL" <<'PY'
import json, os, sys, time
path, mirror = sys.argv[1], sys.argv[2]
cfg, note = {}, ""
if os.path.exists(path):
    try:
        with open(path) as fh:
            text = fh.read()
        cfg = json.loads(text) if text.strip() else {}
        if not isinstance(cfg, dict):
            raise ValueError("not an object")
    except ValueError:
        backup = f"{path}.invalid.{int(time.time())}"
        os.replace(path, backup)
        cfg, note = {}, f" (invalid file moved to {backup})"
new = json.loads(json.dumps(cfg))
others = [m for m in new.get("registry-mirrors", []) if m.rstrip("/") != mirror]
new["registry-mirrors"] = [mirror] + others
flags = []
if "storage-driver" in new:
    new["storage-driver"] = "overlay2"
else:
    flags.append("--storage-driver=overlay2")
if "exec-opts" in new:
    opts = [o for o in new["exec-opts"] if not o.replace(" ", "").startswith("native.cgroupdriver=")]
    new["exec-opts"] = opts + ["native.cgroupdriver=cgroupfs"]
else:
    flags.append("--exec-opt=native.cgroupdriver=cgroupfs")
changed = new != cfg or not os.path.exists(path)
if changed:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(new, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
print(("changed" if changed else "unchanged") + note)
print(" ".join(flags))
PY
) || die "could not update $DAEMON_JSON"
    status=$(sed -n 1p <<<"$out")
    read -r -a DOCKERD_FLAGS <<<"$(sed -n 2p <<<"$out")"
    log "daemon.json: $status ($DAEMON_JSON, registry-mirrors has $MIRROR_URL)"
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
docker_up() { timeout 15 docker info >/dev/null 2>&1; }
mirror_active() {
    timeout 15 docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null | grep -q "${REGISTRY_ADDR//./\\.}"
}

start_dockerd() {
    local pid i stale
    mkdir -p "$RUN_DIR"
    # Pidfiles left by a dockerd/containerd that was killed (e.g. the machine was
    # handed over) can name a reused pid; dockerd would refuse to start then.
    for stale in "$DOCKERD_PIDFILE" /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
        if [ -e "$stale" ]; then
            pid=$(tr -dc '0-9' <"$stale")
            if ! grep -qsE 'dockerd|containerd' "/proc/$pid/comm"; then rm -f "$stale"; fi
        fi
    done
    {
        printf '\n===== %s setup.sh starting dockerd %s\n' "$(date -Is)" "${DOCKERD_FLAGS[*]}"
    } >>"$DOCKERD_LOG"
    setsid dockerd --pidfile="$DOCKERD_PIDFILE" "${DOCKERD_FLAGS[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
    pid=$!
    for ((i = 0; i < DOCKERD_WAIT * 2; i++)); do
        if docker_up; then
            log "dockerd: started (pid $pid, log $DOCKERD_LOG)"
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log_tail "$DOCKERD_LOG" 30
            die "dockerd exited during startup (log: $DOCKERD_LOG)"
        fi
        sleep 0.5
    done
    log_tail "$DOCKERD_LOG" 30
    die "dockerd did not answer within ${DOCKERD_WAIT}s (log: $DOCKERD_LOG)"
}

step_dockerd() {
    local pid foreign_pid
    if ! docker_up; then
        start_dockerd
    elif pid=$(pid_of "$DOCKERD_PIDFILE" dockerd); then
        log "dockerd: already running (ours, pid $pid)"
    else
        log "dockerd: already running (not started by this script)"
    fi
    if mirror_active; then
        return
    fi
    # registry-mirrors is reloadable: SIGHUP makes dockerd re-read daemon.json
    # without touching containers.
    if pid=$(pid_of "$DOCKERD_PIDFILE" dockerd); then
        kill -HUP "$pid"
        sleep 2
        mirror_active && { log "dockerd: reloaded daemon.json (SIGHUP), mirror active"; return; }
        log "dockerd: restarting ours (pid $pid) to pick up the mirror"
        stop_pid "$pid" 40
        start_dockerd
        mirror_active || die "dockerd restarted but the registry mirror $MIRROR_URL is still not active"
        return
    fi
    foreign_pid=$(tr -dc '0-9' </var/run/docker.pid 2>/dev/null || true)
    [ -n "$foreign_pid" ] || foreign_pid=$(pidof dockerd 2>/dev/null | awk 'NF==1{print $1}' || true)
    if [ -n "$foreign_pid" ] && grep -qs dockerd "/proc/$foreign_pid/comm"; then
        log "dockerd: foreign dockerd (pid $foreign_pid) lacks the mirror; sending SIGHUP to reload daemon.json"
        kill -HUP "$foreign_pid" 2>/dev/null || true
        sleep 2
        mirror_active && { log "dockerd: mirror active after reload"; return; }
    fi
    MIRROR_MISSING=1
    warn "the running dockerd was not started by this script and does not use the mirror $MIRROR_URL;" \
        "'docker pull busybox' will not work until it is restarted with $DAEMON_JSON"
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
step_daemon_json
step_registry
step_dockerd
step_images
step_search_index

log "ready in $(($(date +%s) - START_TS))s: engine $(docker version --format '{{.Server.Version}}' 2>/dev/null)," \
    "mirror $MIRROR_URL, search index http://$SEARCH_HOST:$SEARCH_PORT," \
    "images busybox alpine nginx httpd redis (pull by plain name) + docker-coach/host:latest"
if [ ${#WARNINGS[@]} -gt 0 ]; then
    log "finished with ${#WARNINGS[@]} warning(s), see above"
fi
if [ "$MIRROR_MISSING" = 1 ]; then
    die "registry mirror not active in the running dockerd (see warning above)"
fi
