"""Must fail: a define_wook composable called with something that is not an EventContext.

Expected on the marked line (a dict where an EventContext is expected):
mypy [arg-type], pyright [reportArgumentType].
"""

from __future__ import annotations

from event_core import EventContext, define_wook


@define_wook
def use_method(ctx: EventContext) -> str:
    return str(ctx.event.get("method"))


def handler() -> str:
    return use_method({"type": "HTTP"})  # expect-error
