"""Which feed URLs and which resolved addresses the bot may contact.

A feed URL comes from a chat admin or an OPML file, so it is untrusted input: without these rules the bot
could be pointed at its own host or the internal network (SSRF). The rules are applied to the URL as typed,
to every redirect target, and to every address a host name resolves to.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_URL_CHARS = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """A URL or address the bot refuses to contact; the message says why, for the admin."""


def check_feed_url(url: str) -> str:
    """The URL in a canonical spelling (scheme and host lower-case, no ``#fragment``, which is never sent
    to the server), so one feed is not added twice; or :class:`UnsafeUrl` saying what is wrong."""
    text = url.strip()
    if not text:
        raise UnsafeUrl("no URL given")
    if len(text) > MAX_URL_CHARS:
        raise UnsafeUrl(f"URL longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise UnsafeUrl("URL contains spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise UnsafeUrl(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise UnsafeUrl(f"only http and https URLs are allowed (got {shown})")
    if not parts.hostname:
        raise UnsafeUrl("URL has no host name")
    # Credentials would be shown in the feed list and stored in plain text; refuse them outright.
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("URLs with a user name or password are not supported")
    if port == 0:
        raise UnsafeUrl("port 0 is not a valid port")
    return urlunsplit((scheme, parts.netloc.lower(), parts.path, parts.query, ""))


def literal_address(host: str) -> IPAddress | None:
    """The address when ``host`` is an IP literal (``127.0.0.1``, ``[::1]``), else ``None``."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def address_refusal(address: str | IPAddress, *, allow_private: bool) -> str | None:
    """Why the bot must not connect to ``address`` (``None`` when it may).

    Everything that is not a globally routable unicast address is refused unless ``allow_private`` is set:
    loopback, RFC 1918 and unique-local ranges, link-local (cloud metadata endpoints live there),
    multicast, reserved, unspecified and carrier-grade NAT ranges.
    """
    if isinstance(address, str):
        parsed = literal_address(address)
        if parsed is None:
            return f"{address!r} is not an IP address"
        address = parsed
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if allow_private:
        return None
    for label, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if hit:
            return f"{address} is a {label} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None
