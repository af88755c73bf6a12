"""Must fail: the value of a cached_by composable used as another type.

Expected on the marked line (str returned where bytes is declared):
mypy [return-value], pyright [reportReturnType].
"""

from __future__ import annotations

from event_core import EventContext, cached_by


@cached_by
def header(name: str, ctx: EventContext) -> str:
    return str(ctx.event.get(name, ""))


def handler() -> bytes:
    return header("accept")  # expect-error
