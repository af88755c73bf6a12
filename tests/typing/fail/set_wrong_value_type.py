"""Must fail: ctx.set() of a Key[str] with an int.

Expected on the marked line (a value of the wrong type for the key):
mypy [misc], pyright [reportArgumentType].
"""

from __future__ import annotations

from event_core import Key, current

name: Key[str] = Key("name")


def handler() -> None:
    current().set(name, 1)  # expect-error
