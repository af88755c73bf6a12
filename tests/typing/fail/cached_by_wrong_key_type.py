"""Must fail: a cached_by composable keyed by str called with an int key.

Expected on the marked line (int key where str is expected):
mypy [arg-type], pyright [reportArgumentType].
"""

from __future__ import annotations

from typing import Optional

from event_core import EventContext, cached_by


@cached_by
def header(name: str, ctx: EventContext) -> Optional[str]:
    return ctx.event.get(name)


def handler() -> Optional[str]:
    return header(42)  # expect-error
