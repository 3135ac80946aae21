"""The aiohttp side of the feed client: the guarded DNS resolver and the session with the safety rules.

Kept apart from :mod:`.http` so that loading the feeds package costs no aiohttp import (a third of a second
of CPU): a bot that fetches nothing never loads it, one that does loads it before its first request.
"""

from __future__ import annotations

import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from bot.core.feeds import literal_address
from bot.services.feeds.http import AddressPolicy, UnsafeAddressError


class GuardedResolver(AbstractResolver):
    """The connector's DNS resolver: refuses the connection when *any* resolved address is refused.

    Checking at connection time (not only before the request) means a host cannot pass the check with a
    public address and then be connected to a private one by a second, different DNS answer.
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or ThreadedResolver()
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = literal_address(result["host"])
            why = self._policy(address) if address is not None else f"unusable address {result['host']!r}"
            if why:
                raise UnsafeAddressError(f"refused {host}: {why}")
        return results

    async def close(self) -> None:
        await self._inner.close()


def system_resolver() -> AbstractResolver:
    return ThreadedResolver()


def open_session(
    policy: AddressPolicy, resolver: AbstractResolver, *, user_agent: str, timeout: float, limits: tuple[int, int]
) -> aiohttp.ClientSession:
    """One session for every feed: connections checked by :class:`GuardedResolver`, ``limits`` = (total, per host)."""
    total, per_host = limits
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy, resolver), limit=total, limit_per_host=per_host)
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent},
        timeout=aiohttp.ClientTimeout(total=timeout),
        cookie_jar=aiohttp.DummyCookieJar(),  # no state shared between unrelated feeds
        trust_env=False,  # environment proxies would bypass the address checks
    )
