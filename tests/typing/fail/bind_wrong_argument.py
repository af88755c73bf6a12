"""Must fail: bind() keeps the signature, so a wrong argument type is caught.

Expected on the marked line (int where str is expected):
mypy [arg-type], pyright [reportArgumentType].
"""

from __future__ import annotations

from event_core import bind


def describe(prefix: str) -> str:
    return prefix


def handler() -> str:
    return bind(describe)(42)  # expect-error
