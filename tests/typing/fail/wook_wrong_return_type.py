"""Must fail: the result of a define_wook composable used as another type.

Expected on the marked line (Request returned where str is declared):
mypy [return-value], pyright [reportReturnType].
"""

from __future__ import annotations

from event_core import EventContext, define_wook


class Request:
    def __init__(self, method: str) -> None:
        self.method = method


@define_wook
def use_request(ctx: EventContext) -> Request:
    return Request(str(ctx.event.get("method")))


def handler() -> str:
    return use_request()  # expect-error
