"""Who is calling: a signed-in user by their id, an anonymous visitor by their network. Every route a browser
calls learns its caller from :func:`identify`.

An anonymous visitor is keyed by the network their address belongs to (``HMS_IPV4_PREFIX``,
``HMS_IPV6_PREFIX``): one IPv6 /64 is usually one household or one phone, and a stranger who rotates through
the addresses of their /64 must still count as one visitor for rate limits, concurrency and budgets.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from ._config import Settings
from ._state import WebCallState
from .errors import BrowserError

__all__ = ["Caller", "identify", "network_key"]

# The longest text an address (IPv6 with a zone index) is looked up in the cache with.
MAX_REMEMBERED_ADDRESS = 64


@dataclass(frozen=True)
class Caller:
    """``identity`` from the identity loader (``None``: anonymous); ``key`` names the caller in the store."""

    identity: str | None
    key: str

    @property
    def anonymous(self) -> bool:
        return self.identity is None

    @classmethod
    def of(cls, identity: str | None, remote_addr: str | None, settings: Settings) -> Caller:
        if identity is not None:
            return cls(identity, f"user:{identity}")
        return cls(None, "ip:" + network_key(remote_addr, settings.ipv4_prefix, settings.ipv6_prefix))


def identify(state: WebCallState, remote_addr: str | None) -> Caller:
    """The caller of this request; ``401 unauthenticated`` when the site requires a signed-in user
    (``HMS_REQUIRE_IDENTITY``) and nobody is."""
    identity = state.identity()
    if identity is None and state.settings.require_identity:
        raise BrowserError("unauthenticated")
    return Caller.of(identity, remote_addr, state.settings)


def network_key(remote_addr: str | None, ipv4_prefix: int, ipv6_prefix: int) -> str:
    """``2001:db8:1:2::7`` → ``2001:db8:1:2::/64``; ``203.0.113.7`` → ``203.0.113.7/32``; anything that is not
    an address → ``unknown`` (all such callers share one key, so they cannot dodge the limits)."""
    text = (remote_addr or "").strip()
    if len(text) > MAX_REMEMBERED_ADDRESS:  # no address is this long: not worth a place in the cache
        return _network_key.__wrapped__(text, ipv4_prefix, ipv6_prefix)
    return _network_key(text, ipv4_prefix, ipv6_prefix)


# Remembered: parsing the address and then its network cost a create more than counting its rate limit did.
# Bounded, so a stranger going through many addresses only pushes the oldest out.
@functools.lru_cache(maxsize=4096)
def _network_key(text: str, ipv4_prefix: int, ipv6_prefix: int) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:203.0.113.7 is the IPv4 visitor it names
    prefix = ipv4_prefix if address.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
