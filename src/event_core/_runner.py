"""Runners: make an event context active around a handler, a ``with`` block or a coroutine.

Every activation is a ``ContextVar.set`` paired with a ``reset`` in ``finally``, so the
previous context comes back on return, exception and cancellation alike.

``with runner:`` cannot keep its reset token on the runner (one runner may be entered by
many tasks at once, and each task must get back its own previous context), so the token is
pushed on a per-``Context`` stack held in a second ``ContextVar``. The same entries are kept
in a process-wide registry so that the pytest plugin can tell when a test left one open.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Coroutine, Iterable, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token
from types import CoroutineType, TracebackType
from typing import Any, Callable, Generic, TypeVar, overload

from typing_extensions import ParamSpec

from ._context import (
    E,
    EventContext,
    S,
    active,
    checked_event,
    checked_options,
    new_context,
    short_repr,
)
from ._errors import EventContextError
from ._injector import registry

__all__ = ["EventRunner", "create_event_context", "run"]

P = ParamSpec("P")
R = TypeVar("R")


class _Entry:
    """One ``with runner:`` that has been entered and not yet exited.

    ``seq`` orders entries across every task and thread, so that whoever has to unwind
    several of them at once (the pytest plugin) can reset them newest first.
    """

    __slots__ = ("runner", "scope", "seq", "stack_token", "token")

    def __init__(
        self, runner: EventRunner[Any, Any], token: Token[EventContext[Any, Any] | None]
    ) -> None:
        self.runner = runner
        self.token = token
        self.seq = next(_sequence)
        self.stack_token: Token[_Entry | None] | None = None
        self.scope: AbstractContextManager[object] | None = None

    def __repr__(self) -> str:
        return f"<open entry of {self.runner!r}>"


_sequence = itertools.count()  # next() on it is atomic under the GIL
_entries: ContextVar[_Entry | None] = ContextVar("event_core.entries", default=None)
_open: set[_Entry] = set()


def open_entries() -> list[_Entry]:
    """The ``with`` entries of every runner that are still open, in any task or thread."""
    return list(_open)


def close_entries(entries: Iterable[_Entry]) -> int:
    """Close ``entries`` (newest first) as far as possible and forget all of them.

    Entries opened in the calling ``Context`` are reset, newest first, so the context that
    was active before the oldest of them comes back; entries of other contexts (a task that
    is gone) cannot be reset from here and are only dropped. Returns how many.
    """
    doomed = sorted(entries, key=lambda entry: entry.seq, reverse=True)
    for entry in doomed:
        _open.discard(entry)
        if entry.scope is not None:
            entry.scope.__exit__(None, None, None)
        try:
            if entry.stack_token is not None:
                _entries.reset(entry.stack_token)
            active.reset(entry.token)
        except (ValueError, RuntimeError):
            pass  # made in another Context, or already used: nothing left to restore here
    return len(doomed)


def close_runners(runners: Iterable[EventRunner[Any, Any]]) -> int:
    """Close every open entry of ``runners`` (see :func:`close_entries`)."""
    ids = {id(runner) for runner in runners}
    return close_entries([entry for entry in _open if id(entry.runner) in ids])


class EventRunner(Generic[S, E]):
    """Runs code inside one event context: ``runner(fn)``, ``with``, ``async with``.

    Made by :func:`create_event_context`. The runner owns one :class:`EventContext`: every
    run, nested or concurrent, from any task or thread, sees the same store.

    Example:
        >>> from event_core import create_event_context, use_event_context
        >>> run = create_event_context({"type": "CLI", "argv": ["ls"]})
        >>> run(lambda: use_event_context().event["argv"])
        ['ls']
        >>> with run as ctx:
        ...     ctx is use_event_context()
        True

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_ctx", "_inject")

    def __init__(self, ctx: EventContext[S, E], *, inject: bool = True) -> None:
        if ctx.__class__ is not EventContext and not isinstance(ctx, EventContext):
            raise TypeError(f"EventRunner takes an EventContext, got {short_repr(ctx)}")
        self._ctx = ctx
        self._inject = inject

    @property
    def context(self) -> EventContext[S, E]:
        """The event context this runner activates."""
        return self._ctx

    @overload
    def __call__(
        self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, R]: ...
    @overload
    def __call__(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R: ...
    def __call__(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` with this event active and return its result.

        If ``fn`` returns an awaitable (an ``async def`` handler), a coroutine is returned
        that keeps the event active while the awaitable runs.
        """
        ctx = self._ctx
        token = _activate(ctx)
        try:
            if registry.installed is None or not self._inject:
                # A plain call when there are no arguments: cheaper than unpacking empty ones.
                result = fn(*args, **kwargs) if args or kwargs else fn()
            else:
                result = _call_injected(ctx, fn, args, kwargs)
        except TypeError:
            if not callable(fn):
                raise _not_callable(fn) from None
            raise
        finally:
            _deactivate(token)
        if result is None:
            return None
        awaitable = _awaitable_types.get(result.__class__)
        if awaitable is None:
            awaitable = _is_awaitable_type(result.__class__)
        if awaitable:
            return _run_awaitable(ctx, result)
        return result

    def __enter__(self) -> EventContext[S, E]:
        ctx = self._ctx
        entry = _Entry(self, active.set(ctx))
        entry.stack_token = _entries.set(entry)
        _open.add(entry)
        injector = registry.installed if self._inject else None
        if injector is not None:
            try:
                scope = injector.scope(EVENT_START, {"event_type": ctx.type})
                scope.__enter__()
            except BaseException:
                self.__exit__(None, None, None)
                raise
            entry.scope = scope
        return ctx

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        entry = _entries.get()
        if entry is None or entry.runner is not self:
            raise EventContextError(
                f"{self!r} is exited but it is not the innermost runner entered here "
                f"(innermost: {entry!r}); exit `with` blocks in the reverse order of entry"
            )
        _open.discard(entry)
        assert entry.stack_token is not None
        try:
            if entry.scope is not None:
                entry.scope.__exit__(exc_type, exc, tb)
        finally:
            _entries.reset(entry.stack_token)
            active.reset(entry.token)

    async def __aenter__(self) -> EventContext[S, E]:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"<EventRunner {self._ctx!r}>"


# The name every run of a runner gives the injector, for `with_` and `scope` alike.
EVENT_START = "Event:start"

# Bound once: the runner's hot path then skips two attribute lookups per run.
_activate = active.set
_deactivate = active.reset

# Whether instances of a type are awaitable, by type: `hasattr(cls, "__await__")` costs a
# raised and swallowed AttributeError for every plain result, a dict lookup does not.
_awaitable_types: dict[type, bool] = {CoroutineType: True}


def _is_awaitable_type(cls: type) -> bool:
    awaitable = hasattr(cls, "__await__")
    if len(_awaitable_types) > 1024:  # bound the cache if types are made on the fly
        _awaitable_types.clear()
        _awaitable_types[CoroutineType] = True
    _awaitable_types[cls] = awaitable
    return awaitable


def _call_injected(
    ctx: EventContext[Any, Any],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    injector = registry.installed
    if injector is None:  # reset by another thread meanwhile
        return fn(*args, **kwargs)
    if not callable(fn):
        raise _not_callable(fn)
    return injector.with_(EVENT_START, {"event_type": ctx.type}, lambda: fn(*args, **kwargs))


def _not_callable(fn: object) -> TypeError:
    return TypeError(
        f"a runner takes a callable handler, got {type(fn).__name__}: {short_repr(fn)}"
    )


async def _run_awaitable(ctx: EventContext[Any, Any], awaitable: Awaitable[R]) -> R:
    token = active.set(ctx)
    # This frame outlives the run in any traceback kept after a failure or a cancellation
    # (asyncio on 3.12 keeps the cancelled task's): it must not keep the event alive.
    del ctx
    try:
        return await awaitable
    finally:
        active.reset(token)


def create_event_context(
    event: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
    /,
    **sections: Any,
) -> EventRunner[dict[str, Any], dict[str, Any]]:
    """Create a new event context and return the runner that activates it.

    Args:
        event: a mapping with a non-empty ``str`` under ``"type"``; it is copied.
        options: any mapping (see :class:`EventOptions`), kept as given.
        **sections: initial store sections, e.g. ``job={"status": "pending"}``.

    Raises:
        TypeError: ``event`` or ``options`` is not a mapping, or ``"type"`` is not a str.
        ValueError: ``"type"`` is missing or empty, or a section is named event/options.

    The event context active at this call, if any, becomes the new context's parent.

    Example:
        >>> from event_core import create_event_context, use_event_context
        >>> run = create_event_context({"type": "JOB", "job_id": "abc123"}, {}, job={})
        >>> run(lambda: use_event_context("JOB").event["job_id"])
        'abc123'

    .. versionadded:: 0.1.0
    """
    event_copy, event_type = checked_event(event)
    options = {} if options is None else checked_options(options)
    ctx = new_context(event_copy, event_type, options, active.get())
    if sections:
        for reserved in ("event", "options"):
            if reserved in sections:
                raise ValueError(
                    f"a store section cannot be named {reserved!r}: it holds the {reserved}"
                )
        ctx.get_ctx().update(sections)
    return runner_of(ctx)


_new_object = object.__new__


def runner_of(ctx: EventContext[Any, Any]) -> EventRunner[Any, Any]:
    """The runner of a new event's context: what ``EventRunner(ctx)`` makes, minus a frame."""
    runner: EventRunner[Any, Any] = _new_object(EventRunner)
    runner._ctx = ctx  # pyright: ignore[reportPrivateUsage]
    runner._inject = True  # pyright: ignore[reportPrivateUsage]
    return runner


def run(ctx: EventContext[Any, Any], fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn(*args, **kwargs)`` with ``ctx`` active, as a runner would.

    Activating an existing context is not a new event, so no context injector is called.

    .. versionadded:: 0.1.0
    """
    return EventRunner(ctx, inject=False)(fn, *args, **kwargs)
