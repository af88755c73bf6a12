"""Carrying an event across threads: ``bind`` and ``snapshot``.

``contextvars`` follow ``asyncio`` tasks and ``asyncio.to_thread`` by themselves, but not
``ThreadPoolExecutor.submit`` or ``loop.run_in_executor``: those run the callable in the
worker thread's own context. ``bind`` captures the event where it is called.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from typing_extensions import ParamSpec

from ._context import active, no_context
from ._runner import EventRunner

__all__ = ["bind", "snapshot"]

P = ParamSpec("P")
R = TypeVar("R")


def snapshot() -> EventRunner[dict[str, Any], dict[str, Any]]:
    """A runner for the event active now, to call later from anywhere.

    Activating the same event again is not a new event, so no context injector is called.

    Raises:
        NoEventContextError: no event is active here.

    .. versionadded:: 0.1.0
    """
    ctx = active.get()
    if ctx is None:
        raise no_context("snapshot()")
    return EventRunner(ctx, inject=False)


def bind(fn: Callable[P, R], /) -> Callable[P, R]:
    """``fn`` wrapped to run in the event active now, whichever thread calls it.

    Example:
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> from event_core import bind, create_event_context, use_event_context
        >>> def handler():
        ...     with ThreadPoolExecutor(1) as pool:
        ...         return pool.submit(bind(lambda: use_event_context().type)).result()
        >>> create_event_context({"type": "JOB"})(handler)
        'JOB'

    Raises:
        NoEventContextError: no event is active here.
        TypeError: ``fn`` is not callable.

    .. versionadded:: 0.1.0
    """
    if not callable(fn):
        raise TypeError(f"bind() takes a callable, got {type(fn).__name__}: {fn!r}")
    ctx = active.get()
    if ctx is None:
        raise no_context("bind()")
    runner = EventRunner(ctx, inject=False)

    @functools.wraps(fn)
    def bound(*args: P.args, **kwargs: P.kwargs) -> R:
        return runner(fn, *args, **kwargs)

    return bound
