#!/usr/bin/env python3
"""Build Docker Coach's offline stand-in base images and push them to the local mirror.

Stdlib only (runs with the system python3, before the project venv exists).

Every image is a BusyBox root filesystem built from Debian's ``busybox-static``
binary plus a few files written here, streamed as a deterministic tar archive into
``docker import``.  The sha256 of that archive plus the ``--change`` instructions is
the *recipe hash*; it is stored as the image label ``org.docker-coach.recipe`` so an
image is only rebuilt when its recipe really changed, and only pushed when the
registry does not already serve exactly that image.

Library images are pushed as ``127.0.0.1:5000/library/NAME:TAG`` so that the engine,
configured with ``registry-mirrors: ["http://127.0.0.1:5000"]``, serves them for a
plain ``docker pull NAME:TAG``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field

RECIPE_LABEL = "org.docker-coach.recipe"
RECIPE_VERSION = "1"  # bump to force every image to rebuild
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MTIME = 1700000000  # fixed timestamp so archives are byte-for-byte reproducible

# --------------------------------------------------------------------------- files

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
coach:x:1000:1000:Docker Coach learner:/home/coach:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""

GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
tty:x:5:
www-data:x:33:
users:x:100:
coach:x:1000:
nogroup:x:65534:
"""

HOSTS = """\
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
"""


def os_release(name: str, ident: str) -> str:
    return (
        f'NAME="{name}"\n'
        f"ID={ident}\n"
        "ID_LIKE=busybox\n"
        'VERSION_ID="coach-1"\n'
        f'PRETTY_NAME="{name} (Docker Coach offline stand-in, BusyBox based)"\n'
        'HOME_URL="https://busybox.net/"\n'
    )


NGINX_INDEX = """\
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
  body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the web server is successfully installed and
working. (This is Docker Coach's offline stand-in for the nginx image:
BusyBox httpd serving /usr/share/nginx/html.)</p>

<p>Try replacing this page with your own: bind-mount a folder onto
<code>/usr/share/nginx/html</code> or <code>COPY</code> files there in a Dockerfile.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NGINX_50X = """\
<!DOCTYPE html>
<html>
<head><title>Error</title></head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.</p>
</body>
</html>
"""

HTTPD_INDEX = "<html><body><h1>It works!</h1></body></html>\n"

HTTPD_FOREGROUND = """\
#!/bin/sh
# Docker Coach stand-in for the httpd image's entry script: BusyBox httpd, not Apache.
exec httpd -f -v -p 80 -h /usr/local/apache2/htdocs "$@"
"""

APK_STUB = """\
#!/bin/sh
echo "apk: this is Docker Coach's offline alpine stand-in; it has no package index." >&2
echo "apk: the tools it has are BusyBox applets (run 'busybox --list' to see them)." >&2
exit 1
"""

REDIS_SERVER = """\
#!/bin/sh
# Docker Coach stand-in for redis-server (NOT Redis): a BusyBox nc listener that
# speaks just enough of the Redis protocol for PING/ECHO/SET/GET/DEL/EXISTS/INCR/KEYS.
port=6379
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    *) shift ;;
  esac
done
mkdir -p /data
echo "1:M * Docker Coach redis stand-in (BusyBox), not the real Redis"
echo "1:M * Ready to accept connections tcp on port $port"
exec nc -ll -p "$port" -e /usr/local/lib/docker-coach/redis-conn
"""

REDIS_CONN = r"""#!/bin/sh
# One client connection of the Docker Coach redis stand-in (stdin/stdout = socket).
DATA=/data
CR=$(printf '\r')
KNOWN="PING ECHO SET GET DEL EXISTS INCR KEYS DBSIZE FLUSHALL INFO QUIT"
reply() { printf '%s\r\n' "$1"; }
bulk() { printf '$%s\r\n%s\r\n' "${#1}" "$1"; }
badkey() {
  case $1 in
    ''|.*|*/*) reply "-ERR Docker Coach redis stand-in: unsupported key name"; return 0 ;;
  esac
  return 1
}
while IFS= read -r line; do
  line=${line%"$CR"}
  set --
  case $line in
    '') continue ;;
    '*'*)
      n=${line#?}; i=0
      while [ "$i" -lt "$n" ]; do
        IFS= read -r len || exit 0
        IFS= read -r arg || exit 0
        set -- "$@" "${arg%"$CR"}"
        i=$((i + 1))
      done ;;
    *) set -f; set -- $line; set +f ;;
  esac
  [ $# -gt 0 ] || continue
  cmd=$(printf '%s' "$1" | tr 'a-z' 'A-Z')
  case $cmd in
    PING) if [ $# -gt 1 ]; then bulk "$2"; else reply +PONG; fi ;;
    ECHO) bulk "$2" ;;
    SET) badkey "$2" || { printf '%s' "$3" > "$DATA/$2" && reply +OK; } ;;
    GET)
      if badkey "$2"; then :
      elif [ -f "$DATA/$2" ]; then bulk "$(cat "$DATA/$2")"
      else reply '$-1'; fi ;;
    DEL|EXISTS)
      shift; c=0
      for k in "$@"; do
        case $k in ''|.*|*/*) continue ;; esac
        if [ -f "$DATA/$k" ]; then
          c=$((c + 1))
          [ "$cmd" = DEL ] && rm -f "$DATA/$k"
        fi
      done
      reply ":$c" ;;
    INCR)
      if badkey "$2"; then :; else
        v=0; [ -f "$DATA/$2" ] && v=$(cat "$DATA/$2")
        case $v in
          ''|*[!0-9-]*) reply "-ERR value is not an integer or out of range" ;;
          *) v=$((v + 1)); printf '%s' "$v" > "$DATA/$2"; reply ":$v" ;;
        esac
      fi ;;
    KEYS)
      set -- $(cd "$DATA" 2>/dev/null && ls -1)
      printf '*%s\r\n' "$#"
      for k in "$@"; do bulk "$k"; done ;;
    DBSIZE) set -- $(cd "$DATA" 2>/dev/null && ls -1); reply ":$#" ;;
    FLUSHALL|FLUSHDB) rm -f "$DATA"/* 2>/dev/null; reply +OK ;;
    INFO) bulk "# Server${CR}
redis_version:0.0.0-docker-coach-stand-in${CR}
tcp_port:6379" ;;
    COMMAND|CLIENT|HELLO|SELECT) reply +OK ;;
    QUIT) reply +OK; exit 0 ;;
    *) reply "-ERR unknown command '$1' (Docker Coach redis stand-in knows $KNOWN)" ;;
  esac
done
"""

REDIS_CLI = r"""#!/bin/sh
# Docker Coach stand-in for redis-cli: sends one command, prints the reply.
host=127.0.0.1; port=6379
while [ $# -gt 0 ]; do
  case $1 in
    -h) host=$2; shift 2 ;;
    -p) port=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- PING
CR=$(printf '\r')
{
  printf '*%s\r\n' "$#"
  for a in "$@"; do printf '$%s\r\n%s\r\n' "${#a}" "$a"; done
  printf '*1\r\n$4\r\nQUIT\r\n'
} | nc "$host" "$port" | {
  IFS= read -r line || { echo "Could not connect to Redis at $host:$port" >&2; exit 1; }
  line=${line%"$CR"}
  case $line in
    +*) echo "${line#?}" ;;
    -*) echo "(error) ${line#?}"; exit 1 ;;
    :*) echo "(integer) ${line#?}" ;;
    '$-1') echo "(nil)" ;;
    '$'*) head -c "${line#?}"; echo ;;
    '*'*)
      n=${line#?}; i=0
      [ "$n" -eq 0 ] && echo "(empty array)"
      while [ "$i" -lt "$n" ]; do
        IFS= read -r len; IFS= read -r v; i=$((i + 1)); echo "$i) \"${v%"$CR"}\""
      done ;;
    *) echo "$line" ;;
  esac
}
"""

ENTRYPOINT_SH = """\
#!/bin/sh
# Docker Coach stand-in entrypoint.  A PID 1 without a signal handler ignores
# SIGTERM, so `docker stop` would wait 10 s and then kill.  Long-running stand-in
# commands therefore run as a child that we stop at once on TERM/INT/QUIT/HUP;
# anything else (e.g. `docker run -it IMAGE sh`) is exec'd unchanged.
case ${1##*/} in
  httpd|httpd-foreground|redis-server|sleep) ;;
  *) exec "$@" ;;
esac
child=
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT QUIT HUP
"$@" &
child=$!
wait "$child"
"""

# The host shell's own files live beside the worker's recipe (deploy/worker/host/), so that
# both ways of building it give learners the same machine.
HOST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "worker", "host")


def host_file(name: str) -> str:
    with open(os.path.join(HOST_DIR, name), encoding="utf-8") as fh:
        return fh.read()


def build_forwarder() -> bytes:
    """coach-portd, the host shell's port forwarder: a static binary built from its C source
    with musl-gcc (or the system compiler with -static when musl is missing)."""
    source = os.path.join(HOST_DIR, "coach-portd.c")
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "coach-portd")
        for compiler in (["musl-gcc"], ["cc"]):
            if shutil.which(compiler[0]) is None:
                continue
            cmd = [*compiler, "-static", "-Os", "-Wall", "-o", binary, source]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode == 0:
                subprocess.run(["strip", binary], capture_output=True)
                with open(binary, "rb") as fh:
                    return fh.read()
            print(proc.stderr, file=sys.stderr)
    raise SystemExit("build_images: cannot build coach-portd (apt-get install gcc musl-tools)")


# --------------------------------------------------------------------------- recipes


@dataclass
class Recipe:
    name: str  # repository path in the registry, e.g. "library/nginx"
    tag: str
    changes: list[str]
    files: dict[str, tuple[str | bytes, int]] = field(default_factory=dict)  # path -> (data, mode)
    dirs: list[str] = field(default_factory=list)
    local_tag: str | None = None  # extra plain local tag (host image only)
    description: str = ""

    @property
    def short(self) -> str:
        base = self.name.removeprefix("library/")
        return f"{base}:{self.tag}"


def recipes(forwarder: bytes = b"") -> list[Recipe]:
    """Every stand-in image; ``forwarder`` is the host shell's coach-portd binary."""
    sh = json.dumps
    return [
        Recipe(
            "library/busybox",
            "latest",
            [f"ENV {PATH_ENV}", f"CMD {sh(['sh'])}"],
            description="BusyBox from Debian busybox-static",
        ),
        Recipe(
            "library/alpine",
            "latest",
            [f"ENV {PATH_ENV}", f"CMD {sh(['/bin/sh'])}"],
            files={
                "etc/os-release": (os_release("Alpine Linux stand-in", "alpine"), 0o644),
                "sbin/apk": (APK_STUB, 0o755),
            },
            description="stand-in for alpine (BusyBox rootfs)",
        ),
        Recipe(
            "library/nginx",
            "latest",
            [
                f"ENV {PATH_ENV}",
                "EXPOSE 80",
                f"ENTRYPOINT {sh(['/docker-entrypoint.sh'])}",
                f"CMD {sh(['httpd', '-f', '-v', '-p', '80', '-h', '/usr/share/nginx/html'])}",
            ],
            files={
                "etc/os-release": (os_release("nginx stand-in", "docker-coach"), 0o644),
                "usr/share/nginx/html/index.html": (NGINX_INDEX, 0o644),
                "docker-entrypoint.sh": (ENTRYPOINT_SH, 0o755),
                "usr/share/nginx/html/50x.html": (NGINX_50X, 0o644),
            },
            dirs=["etc/nginx/conf.d", "var/log/nginx"],
            description="stand-in for nginx (BusyBox httpd on port 80)",
        ),
        Recipe(
            "library/httpd",
            "latest",
            [
                f"ENV {PATH_ENV}",
                "WORKDIR /usr/local/apache2",
                "EXPOSE 80",
                f"ENTRYPOINT {sh(['/docker-entrypoint.sh'])}",
                f"CMD {sh(['httpd-foreground'])}",
            ],
            files={
                "etc/os-release": (os_release("httpd stand-in", "docker-coach"), 0o644),
                "usr/local/apache2/htdocs/index.html": (HTTPD_INDEX, 0o644),
                "docker-entrypoint.sh": (ENTRYPOINT_SH, 0o755),
                "usr/local/bin/httpd-foreground": (HTTPD_FOREGROUND, 0o755),
            },
            dirs=["usr/local/apache2/conf", "usr/local/apache2/logs"],
            description="stand-in for httpd (BusyBox httpd on port 80)",
        ),
        Recipe(
            "library/redis",
            "latest",
            [
                f"ENV {PATH_ENV}",
                "WORKDIR /data",
                "EXPOSE 6379",
                f"ENTRYPOINT {sh(['/docker-entrypoint.sh'])}",
                f"CMD {sh(['redis-server'])}",
            ],
            files={
                "etc/os-release": (os_release("redis stand-in", "docker-coach"), 0o644),
                "usr/local/bin/redis-server": (REDIS_SERVER, 0o755),
                "docker-entrypoint.sh": (ENTRYPOINT_SH, 0o755),
                "usr/local/bin/redis-cli": (REDIS_CLI, 0o755),
                "usr/local/lib/docker-coach/redis-conn": (REDIS_CONN, 0o755),
            },
            dirs=["data"],
            description="stand-in for redis (tiny RESP responder on port 6379)",
        ),
        Recipe(
            "docker-coach/host",
            "latest",
            [
                f"ENV {PATH_ENV}",
                "ENV HOME=/home/coach",
                "ENV ENV=/etc/profile",
                "WORKDIR /home/coach",
                f"ENTRYPOINT {sh(['/docker-entrypoint.sh'])}",
                f"CMD {sh(['sleep', 'infinity'])}",
            ],
            files={
                "etc/os-release": (os_release("Docker Coach host", "docker-coach"), 0o644),
                "etc/profile": (host_file("profile"), 0o644),
                "docker-entrypoint.sh": (host_file("docker-entrypoint.sh"), 0o755),
                "etc/motd": (host_file("motd"), 0o644),
                "usr/local/bin/curl": (host_file("curl"), 0o755),
                "usr/local/bin/coach-portd": (forwarder, 0o755),
            },
            dirs=["home/coach"],
            local_tag="docker-coach/host:latest",
            description="per-learner host shell",
        ),
    ]


# --------------------------------------------------------------------------- rootfs


def find_busybox() -> str:
    for cand in ("/bin/busybox", "/usr/bin/busybox", shutil.which("busybox") or ""):
        if cand and os.path.isfile(cand):
            return os.path.realpath(cand)
    raise SystemExit("build_images: busybox not found (apt-get install busybox-static)")


def is_static_elf(path: str) -> bool:
    """True when the ELF file has no PT_INTERP program header (i.e. no dynamic loader)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
            return False
        endian = "<" if head[5] == 1 else ">"
        phoff = struct.unpack_from(endian + "Q", head, 0x20)[0]
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 0x36)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    for i in range(phnum):
        (ptype,) = struct.unpack_from(endian + "I", table, i * phentsize)
        if ptype == 3:  # PT_INTERP
            return False
    return True


def applet_paths(busybox: str) -> list[str]:
    out = subprocess.run([busybox, "--list-full"], check=True, capture_output=True, text=True)
    paths = sorted({p.strip().lstrip("/") for p in out.stdout.splitlines() if p.strip()})
    return [p for p in paths if p not in ("bin/busybox", "linuxrc")]


BASE_DIRS = {
    "bin": 0o755,
    "sbin": 0o755,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "usr/local": 0o755,
    "usr/local/bin": 0o755,
    "usr/local/sbin": 0o755,
    "usr/share": 0o755,
    "etc": 0o755,
    "dev": 0o755,
    "proc": 0o555,
    "sys": 0o555,
    "run": 0o755,
    "home": 0o755,
    "root": 0o700,
    "tmp": 0o1777,
    "var": 0o755,
    "var/log": 0o755,
    "var/tmp": 0o1777,
    "var/www": 0o755,
    "mnt": 0o755,
    "opt": 0o755,
}


def build_tar(recipe: Recipe, busybox_bytes: bytes, applets: list[str]) -> bytes:
    """A reproducible tar archive of the image's root filesystem."""
    entries: dict[str, tarfile.TarInfo] = {}
    payload: dict[str, bytes] = {}

    def add_dir(path: str, mode: int = 0o755) -> None:
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in entries:
                ti = tarfile.TarInfo(sub)
                ti.type = tarfile.DIRTYPE
                ti.mode = BASE_DIRS.get(sub, 0o755)
                entries[sub] = ti
        entries[path.strip("/")].mode = BASE_DIRS.get(path.strip("/"), mode)

    def add_file(path: str, data: bytes, mode: int) -> None:
        if os.path.dirname(path):
            add_dir(os.path.dirname(path))
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        ti.mode = mode
        entries[path] = ti
        payload[path] = data

    for d, mode in BASE_DIRS.items():
        add_dir(d, mode)
    for d in recipe.dirs:
        add_dir(d)
    add_file("bin/busybox", busybox_bytes, 0o755)
    for p in applets:
        add_dir(os.path.dirname(p))
        ti = tarfile.TarInfo(p)
        ti.type = tarfile.SYMTYPE
        ti.linkname = "/bin/busybox"
        ti.mode = 0o777
        entries[p] = ti
    base_files = {
        "etc/passwd": (PASSWD, 0o644),
        "etc/group": (GROUP, 0o644),
        "etc/hosts": (HOSTS, 0o644),
        "etc/hostname": ("coach\n", 0o644),
        "etc/shells": ("/bin/sh\n/bin/ash\n", 0o644),
    }
    for path, (text, mode) in {**base_files, **recipe.files}.items():
        entries.pop(path, None)  # a recipe file may replace an applet symlink
        add_file(path, text.encode() if isinstance(text, str) else text, mode)
    if recipe.local_tag and "home/coach" in entries:
        entries["home/coach"].uid = entries["home/coach"].gid = 1000

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(entries):
            ti = entries[path]
            ti.mtime = MTIME
            ti.uname = ti.gname = ""
            if not (recipe.local_tag and path == "home/coach"):
                ti.uid = ti.gid = 0
            data = payload.get(path)
            tar.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


# --------------------------------------------------------------------------- docker


def docker(
    *args: str, stdin: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True)
    if check and proc.returncode != 0:
        raise SystemExit(
            f"build_images: `docker {' '.join(args)}` failed ({proc.returncode}):\n"
            + proc.stderr.decode(errors="replace").strip()
        )
    return proc


def inspect(ref: str) -> dict | None:
    proc = docker("image", "inspect", ref, check=False)
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout)
    return data[0] if data else None


def registry_digest(registry: str, name: str, tag: str) -> str | None:
    req = urllib.request.Request(
        f"http://{registry}/v2/{name}/manifests/{tag}",
        method="HEAD",
        headers={
            "Accept": ", ".join(
                [
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                ]
            )
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise SystemExit(
            f"build_images: registry {registry} answered {exc.code} for {name}:{tag}"
        ) from exc
    except OSError as exc:
        raise SystemExit(f"build_images: registry {registry} unreachable: {exc}") from exc


def ensure_image(
    recipe: Recipe, registry: str, busybox_bytes: bytes, applets: list[str], force: bool = False
) -> str:
    ref = f"{registry}/{recipe.name}:{recipe.tag}"
    tar_bytes = build_tar(recipe, busybox_bytes, applets)
    h = hashlib.sha256()
    h.update(RECIPE_VERSION.encode() + b"\0")
    h.update(tar_bytes)
    for c in recipe.changes:
        h.update(b"\0" + c.encode())
    recipe_hash = h.hexdigest()[:32]

    actions: list[str] = []
    info = inspect(ref)
    labels = ((info or {}).get("Config") or {}).get("Labels") or {}
    if force or labels.get(RECIPE_LABEL) != recipe_hash:
        old_id = info["Id"] if info else None
        changes = [
            *recipe.changes,
            f"LABEL {RECIPE_LABEL}={recipe_hash}",
            "LABEL org.docker-coach.stand-in=true",
            f"LABEL org.opencontainers.image.description={json.dumps(recipe.description)}",
        ]
        args = ["import", "--message", f"Docker Coach stand-in {recipe.short}"]
        for c in changes:
            args += ["--change", c]
        docker(*args, "-", ref, stdin=tar_bytes)
        info = inspect(ref)
        if info is None:
            raise SystemExit(f"build_images: {ref} missing right after docker import")
        actions.append("built")
    else:
        old_id = None
    image_id = info["Id"]

    # Local convenience tags: the host image's plain tag, and refresh stale copies of
    # library images that an earlier `docker pull NAME` left behind.
    plain = recipe.local_tag or (recipe.short if recipe.name.startswith("library/") else None)
    if plain:
        cur = inspect(plain)
        if recipe.local_tag and (cur is None or cur["Id"] != image_id):
            docker("tag", ref, plain)
            actions.append(f"tagged {plain}")
        elif cur is not None and cur["Id"] != image_id:
            docker("tag", ref, plain)
            actions.append(f"refreshed local {plain}")

    if old_id and old_id != image_id:
        # Drop the superseded build if it is now untagged and no container uses it
        # (errors are fine: e.g. an image built FROM it keeps it alive).
        old = inspect(old_id)
        users = docker("ps", "-aq", "--filter", f"ancestor={old_id}", check=False).stdout.strip()
        if old is not None and not old.get("RepoTags") and not users:
            docker("image", "rm", "-f", old_id, check=False)

    want = {
        d.split("@", 1)[1]
        for d in info.get("RepoDigests") or []
        if d.split("@", 1)[0] == f"{registry}/{recipe.name}"
    }
    have = registry_digest(registry, recipe.name, recipe.tag)
    if have is None or have not in want:
        docker("push", ref)
        actions.append("pushed")
    return f"{recipe.short:<22} {', '.join(actions) if actions else 'up to date'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registry", default="127.0.0.1:5000", help="registry host:port")
    ap.add_argument("--force", action="store_true", help="rebuild even if the recipe is unchanged")
    ap.add_argument("--only", action="append", default=[], help="only this image (e.g. nginx)")
    ap.add_argument("--list", action="store_true", help="list image names and exit")
    args = ap.parse_args(argv)

    if args.list:
        for r in recipes():
            print(f"{r.short:<22} -> {args.registry}/{r.name}:{r.tag}")
        return 0
    todo = recipes(build_forwarder())
    if args.list:
        for r in todo:
            print(f"{r.short:<22} -> {args.registry}/{r.name}:{r.tag}")
        return 0
    if args.only:
        todo = [r for r in todo if r.short.split(":")[0] in args.only or r.short in args.only]
        if not todo:
            raise SystemExit(f"build_images: no recipe matches {args.only}")

    busybox = find_busybox()
    if not is_static_elf(busybox):
        raise SystemExit(f"build_images: {busybox} is not static; apt-get install busybox-static")
    with open(busybox, "rb") as fh:
        busybox_bytes = fh.read()
    applets = applet_paths(busybox)
    for r in todo:
        line = ensure_image(r, args.registry, busybox_bytes, applets, args.force)
        print("    " + line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
