#!/usr/bin/env bash
# The offline Debian base image: `debootstrap --variant=minbase bookworm` fed to `docker import`.
#
#   deploy/images/base.sh [IMAGE]     (default IMAGE: docker-coach/debian:bookworm)
#
# Stands in for `debian:bookworm-slim` where Docker Hub cannot be reached. The root file
# system is kept as a tarball in the cache folder ($DOCKER_COACH_CACHE, default
# /var/cache/docker-coach), so later runs only `docker import` it (a few seconds) instead of
# bootstrapping again (about a minute). Delete the tarball to refresh the packages.
# Idempotent; needs root (debootstrap) and a Debian mirror (http://deb.debian.org by default,
# $DEBIAN_MIRROR to choose another).
set -Eeuo pipefail

IMAGE="${1:-docker-coach/debian:bookworm}"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${DOCKER_COACH_CACHE:-/var/cache/docker-coach}"
TARBALL="$CACHE/debian-$SUITE-minbase.tar"

say() { printf '[base] %s\n' "$*" >&2; }
die() { printf '[base] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run me as root (debootstrap needs it)"

bootstrap() {
    local root
    command -v debootstrap >/dev/null || {
        say "installing debootstrap (apt)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null ||
            die "could not install debootstrap"
    }
    mkdir -p "$CACHE"
    root="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    chmod 0755 "$root" # mktemp makes it 0700: the image's / would shut out every non-root user
    # shellcheck disable=SC2064 # expand now: the folder to remove is this one
    trap "rm -rf '$root'" EXIT
    say "debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)"
    debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    # What debian:bookworm-slim also has: updates and security suites, no docs or caches, and
    # apt that keeps no downloaded packages.
    cat >"$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
SOURCES
    printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\n' \
        >"$root/etc/dpkg/dpkg.cfg.d/docker-coach-slim"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAPT::Keep-Downloaded-Packages "false";\n' \
        >"$root/etc/apt/apt.conf.d/docker-coach-slim"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
        "$root"/usr/share/man/* "$root"/usr/share/info/*
    : >"$root/etc/hostname"
    : >"$root/etc/resolv.conf"
    # Reproducible-ish: sorted names, fixed owners, one mtime.
    tar -C "$root" --sort=name --numeric-owner --mtime='2025-01-01 00:00:00' -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$root"
    trap - EXIT
    say "cached $TARBALL ($(du -h "$TARBALL" | cut -f1))"
}

recipe() { sha256sum "$TARBALL" | cut -c1-16; }

# The root folder's entry of a tarball cached by an older base.sh may be drwx------.
# (--no-recursion: only that entry; a pipe into head would fail under pipefail.)
root_is_open() {
    local entry
    entry="$(tar -tvf "$TARBALL" --no-recursion ./ 2>/dev/null)" || return 1
    [[ $entry == drwxr-xr-x* ]]
}

if [ ! -s "$TARBALL" ] || ! root_is_open; then bootstrap; fi
want="$(recipe)"
have="$(docker image inspect -f '{{index .Config.Labels "org.docker-coach.rootfs"}}' "$IMAGE" 2>/dev/null || true)"
if [ "$have" = "$want" ]; then
    say "$IMAGE is up to date"
    exit 0
fi
say "docker import $TARBALL as $IMAGE"
docker import \
    --change "LABEL org.docker-coach.rootfs=$want" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$TARBALL" "$IMAGE" >/dev/null
# Images built on it run as non-root users (the registry, the coach): check they can.
docker run --rm --network none --user 65534:65534 "$IMAGE" /bin/true ||
    die "a non-root user cannot run programs in $IMAGE (permissions of its root file system)"
say "$IMAGE ready"
