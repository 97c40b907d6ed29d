#!/bin/sh
# Runs a command inside fresh network and PID namespaces when the machine allows it (root on Linux):
# servers, Redis and WebRTC in the tests can reach nothing but 127.0.0.1, and every process a test started
# (a sandbox, a browser) dies with the run even if the run itself is killed. HMS_TEST_NETNS=1 tells the
# tests they are in such a namespace.
#
# Firefox gathers no ICE candidate in a namespace without a default route (a call there ends
# connect_failed), and neither does the LiveKit Python SDK's libwebrtc on loopback alone, so the namespace
# gets one: a veth pair whose both ends stay inside it, the default route via a gateway address nobody
# holds. A packet for anywhere but loopback is never sent (the gateway's address does not resolve), and a
# connection to the outside fails at once with "no route to host" as it did without the route (one
# neighbour probe, 50 ms). Every server still binds 127.0.0.1.
DEFAULT_ROUTE='ip link add hms-ns0 type veth peer name hms-ns1 \
&& ip addr add 10.200.0.1/24 dev hms-ns0 \
&& ip link set hms-ns1 up && ip link set hms-ns0 up \
&& echo 1 > /proc/sys/net/ipv4/neigh/hms-ns0/mcast_solicit \
&& echo 50 > /proc/sys/net/ipv4/neigh/hms-ns0/retrans_time_ms \
&& ip route add default via 10.200.0.2 dev hms-ns0'
if [ -z "${HMS_TEST_NO_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 \
    && unshare -n -p -f --kill-child true 2>/dev/null; then
    exec unshare -n -p -f --kill-child sh -c 'ip link set lo up || exit 1
{ '"$DEFAULT_ROUTE"'; } || echo "isolated.sh: no default route in the test namespace: Firefox calls will fail" >&2
HMS_TEST_NETNS=1 exec "$@"' sh "$@"
fi
exec "$@"
