"""A resolver as offline, for an aiohttp connector: every host name lookup fails, as getaddrinfo does
without a network (aiohttp then raises ClientConnectorDNSError)."""

from __future__ import annotations

import aiohttp.abc


class NoNameResolves(aiohttp.abc.AbstractResolver):
    """Every lookup fails; lookups counts them."""

    def __init__(self) -> None:
        self.lookups = 0

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[aiohttp.abc.ResolveResult]:
        self.lookups += 1
        raise OSError(None, "Temporary failure in name resolution")

    async def close(self) -> None:
        return None
