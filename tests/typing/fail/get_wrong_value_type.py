"""Must fail: the value of a kind's Key[str] used as an int.

Expected on the marked line (str returned where int is declared):
mypy [return-value], pyright [reportReturnType].
"""

from __future__ import annotations

from event_core import EventKind, Key, current


class Http(EventKind, name="http"):
    method: Key[str]


def handler() -> int:
    return current().get(Http.method)  # expect-error
