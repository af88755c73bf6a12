"""Typed slots, the 0.7 API: ``Key``, ``cached``, ``cached_by`` and ``define_wook``.

A slot is a typed handle on one value of an event, stored in the same per-event dict as
the store sections (see ``_context``). The slot object is the dict key, so a lookup is a
single ``dict.get`` and the value's type travels with the handle for type checkers.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Coroutine, Generator, Hashable
from typing import Any, Callable, Generic, Optional, TypeVar, Union, overload

from typing_extensions import Protocol

from ._context import (
    MISSING,
    EventContext,
    Slot,
    SlotState,
    active,
    compute_once,
    no_context,
    short_repr,
)

__all__ = ["Cached", "CachedBy", "Key", "Wook", "cached", "cached_by", "define_wook"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Key(Slot[T]):
    """A writable typed slot: ``ctx.set(key, value)``, then ``ctx.get(key)``.

    Reading a key that was never set raises :class:`~event_core.KeyNotSetError`; ``None``
    and other falsy values are values like any other.

    Example:
        >>> from event_core import Key, create_event_context, current
        >>> user_id: Key[int] = Key("user_id")
        >>> def handler():
        ...     current().set(user_id, 0)
        ...     return current().get(user_id)
        >>> create_event_context({"type": "HTTP"})(handler)
        0

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def __init__(self, name: str) -> None:
        super().__init__(name, None)


class Cached(Slot[T]):
    """A slot computed from the event on first read and kept for the rest of the event.

    Made by :func:`cached`; its name is the factory's ``__qualname__``.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()


class SharedAwaitable(Generic[T]):
    """The value of an ``async def`` cached slot: awaitable any number of times.

    The factory runs once, as a task started by the first ``await``. Each ``await`` waits
    through :func:`asyncio.shield`, so cancelling one awaiter cancels neither the factory
    nor the other awaiters. A failure is kept by the task and re-raised to every awaiter.
    """

    __slots__ = ("_ctx", "_factory", "_task")

    def __init__(
        self,
        factory: Callable[[EventContext[Any, Any]], Coroutine[Any, Any, T]],
        ctx: EventContext[Any, Any],
    ) -> None:
        self._factory = factory
        self._ctx = ctx
        self._task: asyncio.Future[T] | None = None

    def __await__(self) -> Generator[Any, None, T]:
        task = self._task
        if task is None:
            task = self._task = asyncio.ensure_future(self._factory(self._ctx))
        if task.done():
            return task.result()
        return (yield from asyncio.shield(task).__await__())

    def __repr__(self) -> str:
        task = self._task
        if task is None:
            state = "not started"
        elif not task.done():
            state = "running"
        elif task.cancelled():
            state = "cancelled"
        else:
            state = "failed" if task.exception() is not None else "done"
        return f"<SharedAwaitable of {self._factory.__qualname__} ({state})>"


@overload
def cached(
    fn: Callable[[EventContext[Any, Any]], Coroutine[Any, Any, T]], /
) -> Cached[Awaitable[T]]: ...
@overload
def cached(fn: Callable[[EventContext[Any, Any]], T], /) -> Cached[T]: ...
def cached(fn: Callable[[EventContext[Any, Any]], Any], /) -> Cached[Any]:
    """Turn ``fn(ctx) -> T`` into a slot computed once per event.

    Errors are cached and re-raised on every read; a factory that needs its own value
    raises :class:`~event_core.CircularDependencyError`. For an ``async def`` factory,
    ``ctx.get(slot)`` is an awaitable that runs the factory once however often it is awaited.

    Example:
        >>> from event_core import cached, create_event_context, current
        >>> @cached
        ... def greeting(ctx):
        ...     return "hello " + ctx.event["user"]
        >>> create_event_context({"type": "HTTP", "user": "ada"})(lambda: current().get(greeting))
        'hello ada'

    .. versionadded:: 0.1.0
    """
    if not callable(fn):
        raise TypeError(f"cached() takes a function fn(ctx), got {type(fn).__name__}: {fn!r}")
    name = getattr(fn, "__qualname__", None) or repr(fn)
    if inspect.iscoroutinefunction(fn):
        return Cached(name, functools.partial(SharedAwaitable, fn))
    return Cached(name, fn)


class CachedBy(Generic[K, V]):
    """A function of a key, computed once per key per event (see :func:`cached_by`).

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_fn", "_table")

    def __init__(self, fn: Callable[[K, EventContext[Any, Any]], V]) -> None:
        self._fn = fn
        name = getattr(fn, "__qualname__", None) or repr(fn)
        self._table: Cached[dict[K, Union[V, SlotState]]] = Cached(name, _new_table)

    def __call__(self, key: K, ctx: Optional[EventContext[Any, Any]] = None) -> V:
        """The value for ``key`` in ``ctx`` (the active event by default)."""
        if ctx is None:
            ctx = active.get()
            if ctx is None:
                raise no_context(f"{self._table.name}()")
        # ctx.get_own(self._table), read in place when the table exists (the common case).
        # One table per event, not get(): a child event never reuses its parent's values.
        try:
            table: Any = ctx._data.get(self._table, MISSING)  # pyright: ignore[reportPrivateUsage]
        except AttributeError:
            raise not_a_context(f"{self._table.name}()", ctx) from None
        if table.__class__ is SlotState:
            table = ctx.get_own(self._table)
        value: Any = table.get(key, MISSING)
        if value.__class__ is not SlotState:
            return value  # type: ignore[no-any-return]
        return compute_once(table, key, f"{self._table.name}({key!r})", self._fn, key, ctx)

    def __repr__(self) -> str:
        return f"<cached_by {self._table.name}>"


def not_a_context(caller: str, ctx: object) -> TypeError:
    return TypeError(
        f"{caller} takes an EventContext as ctx (or nothing: the active event), "
        f"got {type(ctx).__name__}: {short_repr(ctx)}"
    )


def _new_table(ctx: EventContext[Any, Any]) -> dict[Any, Any]:
    return {}


def cached_by(fn: Callable[[K, EventContext[Any, Any]], V], /) -> CachedBy[K, V]:
    """Turn ``fn(key, ctx) -> V`` into ``(key, ctx=None) -> V``, cached per key per event.

    Example:
        >>> from event_core import cached_by, create_event_context
        >>> calls = []
        >>> @cached_by
        ... def header(name: str, ctx) -> str:
        ...     calls.append(name)
        ...     return ctx.event["headers"].get(name)
        >>> run = create_event_context({"type": "HTTP", "headers": {"accept": "*/*"}})
        >>> run(lambda: (header("accept"), header("accept"), calls))
        ('*/*', '*/*', ['accept'])

    .. versionadded:: 0.1.0
    """
    if not callable(fn):
        raise TypeError(f"cached_by() takes a function fn(key, ctx), got {fn!r}")
    return CachedBy(fn)


class Wook(Protocol[T_co]):
    """The type of a composable made by :func:`define_wook`: ``(ctx=None) -> T``."""

    def __call__(self, ctx: Optional[EventContext[Any, Any]] = None) -> T_co: ...


@overload
def define_wook(
    factory: Callable[[EventContext[Any, Any]], Coroutine[Any, Any, T]], /
) -> Wook[Awaitable[T]]: ...
@overload
def define_wook(factory: Callable[[EventContext[Any, Any]], T], /) -> Wook[T]: ...
def define_wook(factory: Callable[[EventContext[Any, Any]], Any], /) -> Wook[Any]:
    """Turn ``factory(ctx) -> T`` into a composable whose factory runs once per event.

    An ``async def`` factory makes a composable returning an awaitable that may be awaited
    any number of times (see :func:`cached`), hence ``Wook[Awaitable[T]]``, not a coroutine.

    Example:
        >>> from event_core import create_event_context, define_wook
        >>> @define_wook
        ... def use_request(ctx):
        ...     return {"method": ctx.event["method"]}
        >>> run = create_event_context({"type": "HTTP", "method": "GET"})
        >>> run(lambda: use_request() is use_request())
        True

    .. versionadded:: 0.1.0
    """
    slot: Cached[Any] = cached(factory)

    def wook(ctx: Optional[EventContext[Any, Any]] = None) -> Any:
        if ctx is None:
            ctx = active.get()
            if ctx is None:
                raise no_context(f"{slot.name}()")
        # ctx.get(slot), its first lookup done here: a value computed in this event already is
        # the common case (a composable is called many times per event), and a call less.
        try:
            value: Any = ctx._data.get(slot, MISSING)  # pyright: ignore[reportPrivateUsage]
        except AttributeError:
            raise not_a_context(f"{slot.name}()", ctx) from None
        if value.__class__ is not SlotState:
            return value
        return ctx._resolve(slot, value)  # pyright: ignore[reportPrivateUsage]

    functools.update_wrapper(wook, factory)
    return wook
