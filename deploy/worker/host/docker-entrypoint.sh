#!/bin/sh
# PID 1 of a learner's host shell. A PID 1 without a signal handler ignores SIGTERM, so
# `docker stop` would wait its whole time-out: run the long-lived command as a child and stop
# at once on TERM/INT/QUIT/HUP. Anything else is exec'd unchanged.
case ${1##*/} in
  sleep) ;;
  *) exec "$@" ;;
esac
child=
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT QUIT HUP
"$@" &
child=$!
wait "$child"
