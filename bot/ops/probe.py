"""Ask a running coach's ``/healthz``: the container's health check.

``python -m bot.ops.probe`` imports nothing but the standard library (a health check runs
every few seconds, so it must be cheap); it finds the endpoint in ``COACH_HTTP__HOST`` and
``COACH_HTTP__PORT`` (the image sets both). ``python -m bot health`` does the same with the
full settings.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORT = 9464


def probe(host: str, port: int, timeout: float) -> tuple[int, list[str]]:
    """The HTTP status of ``/healthz`` (0: no answer) and the checks that failed."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    url = f"http://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body, status = answer.read(), answer.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    except OSError as exc:
        return 0, [f"{url}: no answer ({exc})"]
    try:
        checks = json.loads(body).get("checks", {})
        failing = [f"{name}: {c.get('detail')}" for name, c in checks.items() if not c.get("ok")]
    except (ValueError, AttributeError):
        failing = [body.decode(errors="replace")[:200]]
    return int(status), failing


def report(host: str, port: int, timeout: float) -> int:
    """Print one line; 0 when ready."""
    status, failing = probe(host, port, timeout)
    line = f"/healthz: HTTP {status}" if status else failing[0]
    if status and failing:
        line += " — " + "; ".join(failing)
    print(line, file=sys.stdout if status == 200 else sys.stderr)
    return 0 if status == 200 else 1


def main() -> int:
    host = os.environ.get("COACH_HTTP__HOST", "127.0.0.1")
    port = int(os.environ.get("COACH_HTTP__PORT", DEFAULT_PORT))
    return report(host, port, timeout=5.0)


if __name__ == "__main__":
    sys.exit(main())
