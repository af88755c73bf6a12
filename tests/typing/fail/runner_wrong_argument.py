"""Must fail: a runner passes its arguments to the handler, checked against its signature.

Expected on the marked line (str for bool):
mypy [arg-type], pyright [reportArgumentType].
"""

from __future__ import annotations

from event_core import create_event_context


def describe(prefix: str, *, upper: bool = False) -> str:
    return prefix.upper() if upper else prefix


def main() -> str:
    return create_event_context({"type": "CLI"})(describe, "x", upper="yes")  # expect-error
