#!/usr/bin/env python3
"""Offline stand-in for Docker Hub's search index (registry v1 search API).

Stdlib only.  ``docker search 127.0.0.1:5001/TERM`` makes the engine call
``GET /v1/_ping`` and ``GET /v1/search?q=TERM&n=25`` on this server over plain HTTP
(registries on 127.0.0.0/8 are insecure by default).

Endpoints:
    GET /v1/search?q=TERM&n=N[&page=P]   results from the catalogue (JSON)
    GET /v1/_ping                        200, ``{"standalone": true}``
    GET /v2/                             200, ``{}``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

DEFAULT_CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "search_catalog.json")
RESULT_KEYS = ("name", "description", "star_count", "is_official", "is_automated")
DEFAULT_N = 25
MAX_N = 100


def load_catalog(path: str) -> tuple[list[dict], str]:
    with open(path, "rb") as fh:
        raw = fh.read()
    data = json.loads(raw)
    items = data["results"] if isinstance(data, dict) else data
    clean = []
    for item in items:
        clean.append(
            {
                "name": str(item["name"]),
                "description": str(item.get("description", "")),
                "star_count": int(item.get("star_count", 0)),
                "is_official": bool(item.get("is_official", False)),
                "is_automated": bool(item.get("is_automated", False)),
            }
        )
    return clean, hashlib.sha256(raw).hexdigest()


def search(catalog: list[dict], term: str, n: int = DEFAULT_N, page: int = 1) -> dict:
    """Substring match on name or description, best matches first."""
    query = term
    t = term.strip().lower()
    if t.startswith("library/"):
        t = t[len("library/") :]
    hits = [r for r in catalog if t in r["name"].lower() or t in r["description"].lower()]

    def rank(r: dict) -> tuple:
        name = r["name"].lower()
        short = name.rsplit("/", 1)[-1]
        return (
            0 if name == t else 1 if short == t else 2 if t in name else 3,
            not r["is_official"],
            -r["star_count"],
            name,
        )

    hits.sort(key=rank)
    n = max(1, min(n, MAX_N))
    page = max(1, page)
    window = hits[(page - 1) * n : page * n]
    return {
        "num_results": len(hits),
        "query": query,
        "page": page,
        "page_size": n,
        "num_pages": max(1, -(-len(hits) // n)),
        "results": [{k: r[k] for k in RESULT_KEYS} for r in window],
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "DockerCoachSearchIndex/1.0"
    catalog: ClassVar[list[dict]] = []
    catalog_sha256 = ""
    source_sha256 = ""
    quiet = False

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        if path == "/v1/search":
            qs = parse_qs(url.query)
            term = qs.get("q", [""])[0]
            try:
                n = int(qs.get("n", [DEFAULT_N])[0])
                page = int(qs.get("page", ["1"])[0])
            except ValueError:
                self._send(400, {"error": "n and page must be integers"})
                return
            self._send(200, search(self.catalog, term, n, page))
        elif path == "/v1/_ping":
            self._send(
                200,
                {"standalone": True},
                {
                    "X-Docker-Registry-Version": "0.6.0",
                    "X-Docker-Registry-Standalone": "true",
                    "X-Docker-Coach-Catalog": self.catalog_sha256,
                    "X-Docker-Coach-Source": self.source_sha256,
                },
            )
        elif path == "/v2":
            self._send(200, {}, {"Docker-Distribution-API-Version": "registry/2.0"})
        else:
            self._send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    do_HEAD = do_GET

    def handle_one_request(self) -> None:
        # The engine tries HTTPS first and falls back to plain HTTP.  A TLS
        # ClientHello starts with byte 0x16: drop it quietly instead of logging a
        # garbled "bad request".
        try:
            first = self.rfile.peek(1)[:1]
        except (OSError, ValueError):
            first = b""
        if first == b"\x16":
            self.close_connection = True
            return
        super().handle_one_request()

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            sys.stderr.write(f"search-index: {self.address_string()} {format % args}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Offline stand-in for Docker Hub's search index.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5001)
    ap.add_argument("--catalog", default=DEFAULT_CATALOG, help="catalogue JSON file")
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    args = ap.parse_args(argv)

    Handler.catalog, Handler.catalog_sha256 = load_catalog(args.catalog)
    Handler.quiet = args.quiet
    with open(os.path.abspath(__file__), "rb") as fh:
        Handler.source_sha256 = hashlib.sha256(fh.read()).hexdigest()
    ThreadingHTTPServer.allow_reuse_address = True
    httpd = ThreadingHTTPServer((args.host, args.port), Handler)
    httpd.daemon_threads = True
    sys.stderr.write(
        f"search-index: serving {len(Handler.catalog)} images on http://{args.host}:{args.port}\n"
    )
    sys.stderr.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
