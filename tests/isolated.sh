#!/bin/sh
# Runs a command inside a fresh network namespace with only loopback up, when the machine allows it
# (root on Linux). Servers, Redis and WebRTC in the tests then cannot reach anything but 127.0.0.1.
if [ -z "${HMS_TEST_NO_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
    exec unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
fi
exec "$@"
