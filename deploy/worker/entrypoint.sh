#!/usr/bin/env bash
# Entrypoint of the sandbox worker (Docker-in-Docker). In order:
#
#   1. the kernel interfaces a nested engine needs (securityfs, cgroup v2 delegation)
#   2. TLS: a CA, a server and a client certificate, made on first start. The CA key and the
#      server key stay in the worker's data volume; the client bundle goes to $WORKER_CERTS
#      (the volume only the worker and the coach mount), readable by the coach's user only.
#   3. the data root: a btrfs file system in a sparse loop file inside the data volume,
#      quota enabled, mounted on /var/lib/docker (so `--storage-opt size=` limits hold)
#   4. daemon.json: mutual TLS on :2376, live-restore, log caps, the registry mirror,
#      address pools for hundreds of sandbox networks
#   5. dockerd, supervised: SIGTERM stops the sandboxes gracefully, then the engine, then
#      unmounts the data root.
#   6. the sandbox host image ($WORKER_HOST_IMAGE): built on this engine from
#      /usr/share/docker-coach/host if missing (its BusyBox base comes through the registry
#      cache). The worker reports healthy once the engine answers over TLS and that image is
#      there (/run/docker-coach-worker.ready).
#
# Settings (environment): WORKER_DISK_SIZE (20G), WORKER_STORAGE (btrfs | overlay2),
# WORKER_ADDRESS_POOL (10.201.0.0/16) and WORKER_ADDRESS_POOL_SIZE (26: 1024 networks),
# WORKER_REGISTRY_MIRROR (http://registry:5000; empty for none), WORKER_LOG_MAX_SIZE (10m),
# WORKER_LOG_MAX_FILE (3), WORKER_TLS_SAN (names the coach uses to reach this worker),
# WORKER_CLIENT_UID (10001, the coach's user), WORKER_STOP_TIMEOUT (5 s per sandbox container),
# WORKER_HOST_IMAGE (docker-coach/host:latest), WORKER_HOST_BASE (busybox:latest).
set -Eeuo pipefail

DATA="${WORKER_DATA:-/var/lib/docker-worker}"
CERTS="${WORKER_CERTS:-/certs}"
TLS="$DATA/tls"
ROOT=/var/lib/docker
IMAGE="$DATA/btrfs.img"
DAEMON_JSON=/etc/docker/daemon.json
READY=/run/docker-coach-worker.ready
HOST_CONTEXT=/usr/share/docker-coach/host
DOCKERD_PID=""

say() { printf '[worker] %s\n' "$*" >&2; }
die() { printf '[worker] ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------------------ kernel
prepare_kernel() {
    if [ -d /sys/kernel/security ] && ! mountpoint -q /sys/kernel/security; then
        mount -t securityfs none /sys/kernel/security 2>/dev/null ||
            say "could not mount securityfs (AppArmor profiles may not load)"
    fi
    # Without --privileged (hosts whose engine cannot grant every capability, see
    # compose.caps.yaml) the cgroup file systems are mounted read-only; the nested engine
    # must create its containers' groups below ours.
    local mnt probe
    # Likewise /proc/sys and /sys (the engine sets its networks' sysctls): read-only unless
    # privileged.
    for mnt in /proc/sys /sys; do
        if awk -v m="$mnt" '$5 == m && $6 ~ /(^|,)ro(,|$)/ {found = 1} END {exit !found}' /proc/self/mountinfo; then
            mount -o remount,rw "$mnt" 2>/dev/null || mount -o remount,bind,rw "$mnt" 2>/dev/null ||
                say "could not make $mnt writable"
        fi
    done
    while read -r mnt; do
        mount -o remount,bind,rw "$mnt" 2>/dev/null || say "could not make $mnt writable"
    done < <(awk '($9 == "cgroup" || $9 == "cgroup2") && $6 ~ /(^|,)ro(,|$)/ {print $5}' /proc/self/mountinfo)
    # cgroup v2: move ourselves out of the root group so the nested engine may enable
    # controllers for its containers' groups.
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        mkdir -p /sys/fs/cgroup/init
        xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
        sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers \
            >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    fi
    probe="$(awk '$9 == "cgroup" || $9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)"
    if [ -n "$probe" ] && ! { mkdir "$probe/.worker-probe" 2>/dev/null && rmdir "$probe/.worker-probe"; }; then
        die "cgroups are read-only: run the worker privileged (or with compose.caps.yaml)"
    fi
}

# --------------------------------------------------------------------------------- TLS
issue() { # issue NAME USAGE SAN -> $TLS/NAME-key.pem, $TLS/NAME-cert.pem signed by the CA
    local name=$1 usage=$2 san=$3 ext
    ext="$(mktemp)"
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$usage"
        if [ -n "$san" ]; then echo "subjectAltName=$san"; fi
    } >"$ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$TLS/$name-key.pem" -out "$TLS/$name.csr" -subj "/CN=docker-coach-$name" 2>/dev/null
    openssl x509 -req -in "$TLS/$name.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca-key.pem" \
        -CAcreateserial -days 825 -sha256 -extfile "$ext" -out "$TLS/$name-cert.pem" 2>/dev/null
    rm -f "$TLS/$name.csr" "$ext"
}

prepare_tls() {
    local san="${WORKER_TLS_SAN:-DNS:worker,DNS:localhost,IP:127.0.0.1}"
    local uid="${WORKER_CLIENT_UID:-10001}"
    umask 077
    mkdir -p "$TLS"
    if [ ! -s "$TLS/ca.pem" ] || [ ! -s "$TLS/ca-key.pem" ]; then
        say "TLS: creating the worker's certificate authority (first start)"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
            -keyout "$TLS/ca-key.pem" -out "$TLS/ca.pem" -subj "/CN=docker-coach-worker-ca" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        rm -f "$TLS"/server-*.pem "$TLS"/client-*.pem
    fi
    if [ ! -s "$TLS/server-cert.pem" ] || [ "$(cat "$TLS/server.san" 2>/dev/null)" != "$san" ]; then
        say "TLS: issuing the server certificate for $san"
        issue server serverAuth "$san"
        printf '%s' "$san" >"$TLS/server.san"
    fi
    [ -s "$TLS/client-cert.pem" ] || { say "TLS: issuing the client certificate"; issue client clientAuth ""; }
    # The shared volume holds the client bundle only: what the coach needs, nothing more.
    mkdir -p "$CERTS/client"
    install -m 0444 "$TLS/ca.pem" "$CERTS/client/ca.pem"
    install -m 0444 "$TLS/client-cert.pem" "$CERTS/client/cert.pem"
    install -m 0400 -o "$uid" "$TLS/client-key.pem" "$CERTS/client/key.pem"
    chmod 0755 "$CERTS" "$CERTS/client"
    umask 022
}

# ------------------------------------------------------------------------ data root
free_loop_device() { # prints a free /dev/loopN, creating its node if the kernel just made it
    local dev number
    [ -e /dev/loop-control ] || mknod -m 0660 /dev/loop-control c 10 237
    dev="$(losetup --find)"
    number="${dev#/dev/loop}"
    [ -b "$dev" ] || mknod -m 0660 "$dev" b 7 "$number"
    printf '%s\n' "$dev"
}

mount_btrfs() {
    local size="${WORKER_DISK_SIZE:-20G}" dev attempt
    mkdir -p "$ROOT"
    if mountpoint -q "$ROOT"; then
        [ "$(stat -f -c %T "$ROOT")" = btrfs ] || die "$ROOT is mounted but is not btrfs"
        return
    fi
    if [ ! -e "$IMAGE" ]; then
        say "data root: creating a sparse $size btrfs file system ($IMAGE)"
        truncate -s "$size" "$IMAGE"
        mkfs.btrfs -q -L docker-coach-worker "$IMAGE" >/dev/null
    else
        # Growing is safe (btrfs resizes online); shrinking is never done automatically.
        local have want
        have=$(stat -c %s "$IMAGE")
        want=$(numfmt --from=iec "$size")
        if [ "$want" -gt "$have" ]; then
            say "data root: growing $IMAGE to $size"
            truncate -s "$size" "$IMAGE"
        fi
    fi
    # Another process may take the free device between our look and our mount: try again.
    for attempt in 1 2 3 4 5; do
        dev="$(free_loop_device)"
        # mount sets up the loop device with autoclear: it is released with the last mount.
        if mount -t btrfs -o "loop=$dev,noatime" "$IMAGE" "$ROOT" 2>/dev/null; then
            break
        fi
        [ "$attempt" = 5 ] && die "could not mount $IMAGE on a loop device (is the worker privileged?)"
        sleep 0.$((RANDOM % 9 + 1))
    done
    btrfs filesystem resize max "$ROOT" >/dev/null 2>&1 || true
    btrfs quota enable "$ROOT"
    # Quota groups of subvolumes deleted while the engine was down would linger: drop them.
    btrfs qgroup clear-stale "$ROOT" >/dev/null 2>&1 || true
    say "data root: btrfs on $dev, quota enabled, $(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ') free"
}

prepare_data_root() {
    mkdir -p "$DATA"
    case "${WORKER_STORAGE:-btrfs}" in
        btrfs)
            mount_btrfs
            STORAGE_DRIVER=btrfs
            ;;
        overlay2)
            # No per-container disk limit: the coach sees the driver and says so (docs/sandbox.md).
            say "data root: overlay2 in $DATA/docker (WARNING: no per-container disk limits)"
            mkdir -p "$DATA/docker"
            mountpoint -q "$ROOT" || mount --bind "$DATA/docker" "$ROOT"
            STORAGE_DRIVER=overlay2
            ;;
        *) die "WORKER_STORAGE must be btrfs or overlay2, not ${WORKER_STORAGE}" ;;
    esac
}

# ------------------------------------------------------------------------- daemon.json
write_daemon_json() {
    local mirror="" pool="${WORKER_ADDRESS_POOL:-10.201.0.0/16}" size="${WORKER_ADDRESS_POOL_SIZE:-26}"
    [[ "$pool" =~ ^[0-9.]+/[0-9]+$ ]] || die "WORKER_ADDRESS_POOL must be a CIDR like 10.201.0.0/16"
    [[ "$size" =~ ^[0-9]+$ ]] || die "WORKER_ADDRESS_POOL_SIZE must be a prefix length like 24"
    if [ -n "${WORKER_REGISTRY_MIRROR:-}" ]; then
        mirror="\"registry-mirrors\": [\"${WORKER_REGISTRY_MIRROR}\"],"
    fi
    mkdir -p "$(dirname "$DAEMON_JSON")"
    cat >"$DAEMON_JSON" <<JSON
{
  "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
  "tls": true,
  "tlsverify": true,
  "tlscacert": "$TLS/ca.pem",
  "tlscert": "$TLS/server-cert.pem",
  "tlskey": "$TLS/server-key.pem",
  "storage-driver": "$STORAGE_DRIVER",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "live-restore": true,
  "log-driver": "json-file",
  "log-opts": {"max-size": "${WORKER_LOG_MAX_SIZE:-10m}", "max-file": "${WORKER_LOG_MAX_FILE:-3}"},
  $mirror
  "default-address-pools": [{"base": "$pool", "size": $size}]
}
JSON
}

# ---------------------------------------------------------------------------- dockerd
stop_everything() {
    trap - TERM INT
    say "stopping: sandboxes first (${WORKER_STOP_TIMEOUT:-5} s each, in parallel), then the engine"
    local running
    running="$(docker ps -q 2>/dev/null || true)"
    if [ -n "$running" ]; then
        # shellcheck disable=SC2086 # one id per word
        docker stop -t "${WORKER_STOP_TIMEOUT:-5}" $running >/dev/null 2>&1 || true
    fi
    if [ -n "$DOCKERD_PID" ]; then
        kill -TERM "$DOCKERD_PID" 2>/dev/null || true
        wait "$DOCKERD_PID" 2>/dev/null || true
    fi
    sync
    if mountpoint -q "$ROOT"; then
        umount "$ROOT" 2>/dev/null || umount -l "$ROOT" 2>/dev/null || true
    fi
    say "stopped"
    exit 0
}

engine_up() { docker version >/dev/null 2>&1; }

ensure_host_image() {
    local image="${WORKER_HOST_IMAGE:-docker-coach/host:latest}" base="${WORKER_HOST_BASE:-busybox:latest}"
    local i
    for ((i = 0; i < 240; i++)); do engine_up && break; sleep 0.5; done
    engine_up || { say "the engine did not answer within 120 s"; return 1; }
    # The recipe's hash (files and base) is a label: a new worker image brings a new recipe,
    # and the host image is rebuilt once, at the next start.
    local recipe
    recipe="$( (cd "$HOST_CONTEXT" && cat -- * && echo "$base") | sha256sum | cut -c1-16)"
    until [ "$(docker image inspect -f '{{index .Config.Labels "org.docker-coach.recipe"}}' "$image" 2>/dev/null)" = "$recipe" ]; do
        say "building the sandbox host image $image from $base"
        if DOCKER_BUILDKIT=0 docker build -q --build-arg "HOST_BASE=$base" \
            --label "org.docker-coach.recipe=$recipe" -t "$image" "$HOST_CONTEXT" >/dev/null; then
            break
        fi
        say "could not build $image (is the registry cache reachable?); trying again in 15 s"
        sleep 15
    done
    touch "$READY"
    say "ready: $image is on the engine"
}

main() {
    prepare_kernel
    prepare_tls
    prepare_data_root
    write_daemon_json
    rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
    trap stop_everything TERM INT
    say "starting dockerd (storage $STORAGE_DRIVER, API on :2376 with mutual TLS)"
    rm -f "$READY"
    dockerd "$@" &
    DOCKERD_PID=$!
    ensure_host_image &
    local status=0
    wait "$DOCKERD_PID" || status=$?
    # Only reached when dockerd ended on its own: let the restart policy bring us back.
    say "dockerd exited with status $status"
    mountpoint -q "$ROOT" && { umount "$ROOT" 2>/dev/null || umount -l "$ROOT" || true; }
    exit "$((status == 0 ? 1 : status))"
}

main "$@"
