"""Must fail: the value of an async cached slot used without awaiting it.

Expected on the marked line (Awaitable[str] returned where str is declared):
mypy [return-value], pyright [reportReturnType].
"""

from __future__ import annotations

from event_core import EventContext, cached, current


@cached
async def user_name(ctx: EventContext) -> str:
    return str(ctx.event.get("user"))


async def handler() -> str:
    return current().get(user_name)  # expect-error
