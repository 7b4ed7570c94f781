#!/bin/sh
# PID 1's child in a learner's host shell (docker-init is PID 1). Starts the forwarder of the
# sandbox's published ports (coach-portd: the ports the learner's containers publish, heard
# in this shell's own network namespace), then keeps the shell up. A long-lived command runs
# as a child so that TERM/INT/QUIT/HUP stop it at once; anything else is exec'd unchanged.
[ -x /usr/local/bin/coach-portd ] && /usr/local/bin/coach-portd daemon
case ${1##*/} in
  sleep) ;;
  *) exec "$@" ;;
esac
child=
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT QUIT HUP
"$@" &
child=$!
wait "$child"
