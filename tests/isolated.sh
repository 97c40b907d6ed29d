#!/bin/sh
# Runs a command inside fresh network and PID namespaces when the machine allows it (root on Linux):
# servers, Redis and WebRTC in the tests can reach nothing but 127.0.0.1, and every process a test started
# (a sandbox, a browser) dies with the run even if the run itself is killed. HMS_TEST_NETNS=1 tells the
# tests they are in such a namespace (tests/livekit_visitor.py may then add an interface to it).
if [ -z "${HMS_TEST_NO_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 \
    && unshare -n -p -f --kill-child true 2>/dev/null; then
    exec unshare -n -p -f --kill-child sh -c 'ip link set lo up && HMS_TEST_NETNS=1 exec "$@"' sh "$@"
fi
exec "$@"
