#!/bin/sh
# Healthy when the sandbox host image is ready and the engine answers over mutual TLS on
# :2376, exactly as the coach reaches it.
set -eu
[ -e /run/docker-coach-worker.ready ] || { echo "preparing the sandbox host image"; exit 1; }
certs="${WORKER_CERTS:-/certs}/client"
exec docker --host tcp://127.0.0.1:2376 --tlsverify \
    --tlscacert "$certs/ca.pem" --tlscert "$certs/cert.pem" --tlskey "$certs/key.pem" \
    version --format '{{.Server.Version}}' >/dev/null
