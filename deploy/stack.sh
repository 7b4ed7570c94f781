#!/usr/bin/env bash
# The production stack (deploy/compose.yaml) built and run on this machine, offline, against
# the loopback Discord stand-in. Called by deploy/dev.sh:
#
#   deploy/dev.sh stack up      build what is missing, start in the background, wait until healthy
#   deploy/dev.sh stack down    stop and remove the containers; the volumes (data) stay
#   deploy/dev.sh stack test    build, start a fresh stack, run deploy/stack/test_stack.py, tear
#                               it down (volumes included); prints how long each phase took
#   deploy/dev.sh stack ps|logs [SERVICE]|compose ARGS...
#
# Images: compose.yaml + compose.offline.yaml (Debian base from debootstrap, registry from
# Debian's docker-registry) + compose.test.yaml (the Discord and Docker Hub stand-ins), plus
# compose.caps.yaml when this engine cannot start privileged containers. Cached between runs
# in $DOCKER_COACH_CACHE (default /var/cache/docker-coach): the Debian root file system tarball
# and the Python wheels. `stack up` uses the project docker-coach-dev (ports 9464, 18080,
# 15055 on 127.0.0.1); `stack test` a project and free ports of its own.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$ROOT/deploy"
CACHE="${DOCKER_COACH_CACHE:-/var/cache/docker-coach}"
PYTHON="${STACK_PYTHON:-$ROOT/.venv/bin/python}"
SEED_IMAGES=(busybox alpine nginx httpd redis)
HEALTH_WAIT="${STACK_HEALTH_WAIT:-300}"

say() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------- compose
COMPOSE=()
find_compose() {
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
    elif command -v docker-compose >/dev/null; then
        COMPOSE=(docker-compose)
    else
        say "installing docker-compose (apt)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; } >/dev/null ||
            die "neither 'docker compose' nor docker-compose is available"
        COMPOSE=(docker-compose)
    fi
}

# Privileged containers fail to start when the engine's own capability bounding set lacks a
# capability the runtime grants them (runc: "unable to apply caps").
needs_caps_file() {
    local have last full
    have=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
    last=$(cat /proc/sys/kernel/cap_last_cap)
    full=$(((1 << (last + 1)) - 1))
    [ "$have" != "$full" ]
}

FILES=()
compose_files() {
    FILES=(-f "$DEPLOY/compose.yaml" -f "$DEPLOY/compose.offline.yaml")
    if needs_caps_file; then FILES+=(-f "$DEPLOY/compose.caps.yaml"); fi
    FILES+=(-f "$DEPLOY/compose.test.yaml")
}

compose() { "${COMPOSE[@]}" --project-directory "$DEPLOY" -p "$PROJECT" "${FILES[@]}" "$@"; }

use_project() { # use_project NAME: the project, its env file and ports
    PROJECT=$1
    local state="$CACHE/stack/$PROJECT"
    mkdir -p "$state"
    # The stand-in accepts any token; the real one never goes near a test.
    printf 'DISCORD_TOKEN=stack-test-token\nCOACH_LOG_LEVEL=INFO\n' >"$state/coach.env"
    export COACH_ENV_FILE="$state/coach.env"
    export COMPOSE_PROJECT_NAME="$PROJECT" STACK_INSTANCE="${STACK_INSTANCE:-$PROJECT}"
    export COACH_METRICS_PORT="${COACH_METRICS_PORT:-9464}"
    export STACK_DISCORD_PORT="${STACK_DISCORD_PORT:-18080}" STACK_HUB_PORT="${STACK_HUB_PORT:-15055}"
    export COMPOSE_HTTP_TIMEOUT=300 DOCKER_CLIENT_TIMEOUT=300
}

# ------------------------------------------------------------------------------ build
wheels() {
    local lock="$DEPLOY/requirements.lock" stamp want plats=() m
    stamp="$CACHE/wheels/.lock-sha256"
    want="$(sha256sum "$lock" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "downloading the locked wheels (Python 3.11, manylinux x86_64) into $CACHE/wheels"
        rm -rf "$CACHE/wheels"
        mkdir -p "$CACHE/wheels"
        for m in $(seq 36 -1 5); do plats+=(--platform "manylinux_2_${m}_x86_64"); done
        # --isolated: the files the lock's hashes name, from the index, not local wheel folders.
        "$PYTHON" -m pip download -q --isolated --cert /etc/ssl/certs/ca-certificates.crt \
            --only-binary=:all: --require-hashes --no-deps --python-version 3.11 \
            --implementation cp --abi cp311 --abi abi3 --abi none "${plats[@]}" \
            --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
            -r "$lock" -d "$CACHE/wheels" || die "could not download the wheels of $lock"
        echo "$want" >"$stamp"
    fi
    # The build context only sees deploy/wheels/: mirror the cache there (links, no copies).
    find "$DEPLOY/wheels" -name '*.whl' -delete
    cp -l "$CACHE"/wheels/*.whl "$DEPLOY/wheels/" 2>/dev/null || cp "$CACHE"/wheels/*.whl "$DEPLOY/wheels/"
}

build() {
    bash "$DEPLOY/images/base.sh" docker-coach/debian:bookworm
    wheels
    say "building the images (layer cache: only what changed is rebuilt)"
    # The coach first: the Discord stand-in's image is built on top of it.
    compose build -q coach >&2
    compose build -q worker registry discord >&2
    tidy_images
}

# Images this script built that a newer build replaced (untagged, labelled by our Dockerfiles),
# except the newest build stage of the coach, the layer cache of the next build.
tidy_images() {
    local newest_build old
    newest_build="$(docker images -q -f dangling=true -f label=org.docker-coach.image=coach-build | head -n 1)"
    for old in $(docker images -q -f dangling=true -f label=org.docker-coach.image | sort -u); do
        [ "$old" = "$newest_build" ] && continue
        docker rmi "$old" >/dev/null 2>&1 || true # still in use by a container: keep it
    done
}

# -------------------------------------------------------------------------------- run
wait_healthy() { # wait_healthy SERVICE...: until each container's health check passes
    local service id status deadline=$((SECONDS + HEALTH_WAIT))
    for service in "$@"; do
        while :; do
            id="$(compose ps -q "$service" 2>/dev/null || true)"
            status="$( [ -n "$id" ] && docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)"
            case "$status" in
                healthy) break ;;
                exited | dead | missing)
                    compose logs --tail 40 "$service" >&2 || true
                    die "$service is $status"
                    ;;
            esac
            if [ "$SECONDS" -ge "$deadline" ]; then
                compose logs --tail 60 "$service" >&2 || true
                die "$service not healthy after ${HEALTH_WAIT}s (status: $status)"
            fi
            sleep 1
        done
        say "$service: healthy"
    done
}

seed_hub() { # the stand-in Docker Hub serves the stand-in images of the local engine
    local image tag
    for image in "${SEED_IMAGES[@]}"; do
        docker image inspect "$image:latest" >/dev/null 2>&1 ||
            die "$image:latest is missing on the local engine (deploy/engine/setup.sh makes it)"
        tag="127.0.0.1:$STACK_HUB_PORT/library/$image:latest"
        docker tag "$image:latest" "$tag"
        docker push -q "$tag" >/dev/null || { docker rmi "$tag" >/dev/null; die "could not push $tag"; }
        docker rmi "$tag" >/dev/null # only our extra tag; the image stays
    done
    say "hub: seeded ${SEED_IMAGES[*]}"
}

up() {
    compose up -d hub >&2
    wait_healthy hub
    seed_hub
    compose up -d >&2
    wait_healthy registry worker discord coach
}

# ------------------------------------------------------------------------------- test
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

stack_test() {
    local started=$SECONDS t status=0
    export COACH_METRICS_PORT STACK_DISCORD_PORT STACK_HUB_PORT
    COACH_METRICS_PORT=$(free_port) STACK_DISCORD_PORT=$(free_port) STACK_HUB_PORT=$(free_port)
    use_project "dcstack-$(date +%s)-$$"
    trap 'say "tearing down $PROJECT"; compose down -v --remove-orphans -t 20 >/dev/null 2>&1 || true; rm -rf "$CACHE/stack/$PROJECT"' EXIT
    t=$SECONDS
    build
    local build_s=$((SECONDS - t))
    t=$SECONDS
    up
    local up_s=$((SECONDS - t))
    t=$SECONDS
    PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" STACK_COMPOSE="$(printf '%s\n' "${COMPOSE[@]}" --project-directory "$DEPLOY" -p "$PROJECT" "${FILES[@]}")" \
        "$PYTHON" -m pytest "$DEPLOY/stack" -p no:cacheprovider -q -s -o addopts="" --rootdir "$ROOT" "$@" ||
        status=$?
    local checks_s=$((SECONDS - t))
    say "timings: build ${build_s}s, start ${up_s}s, checks ${checks_s}s, total $((SECONDS - started))s (teardown follows)"
    return "$status"
}

# ------------------------------------------------------------------------------- main
[ "$(id -u)" = 0 ] || die "run me as root (debootstrap, and the engine's socket)"
find_compose
compose_files
action="${1:-}"
shift || true
case "$action" in
    up)
        use_project "${STACK_PROJECT:-docker-coach-dev}"
        build
        up
        say "up: /healthz and /metrics on http://127.0.0.1:$COACH_METRICS_PORT, the Discord stand-in's control API on http://127.0.0.1:$STACK_DISCORD_PORT/_control/status"
        say "console in the container: deploy/dev.sh stack compose exec coach python -m bot console"
        ;;
    down)
        use_project "${STACK_PROJECT:-docker-coach-dev}"
        compose down -t 20 >&2
        say "stopped; the volumes (database, sandboxes, caches) are kept"
        ;;
    test) stack_test "$@" ;;
    ps) use_project "${STACK_PROJECT:-docker-coach-dev}"; compose ps ;;
    logs) use_project "${STACK_PROJECT:-docker-coach-dev}"; compose logs --tail 200 "$@" ;;
    compose) use_project "${STACK_PROJECT:-docker-coach-dev}"; compose "$@" ;;
    *) die "usage: deploy/dev.sh stack up|down|test|ps|logs [SERVICE]|compose ARGS..." ;;
esac
