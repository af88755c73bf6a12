"""The per-event context and the one ``ContextVar`` that says which event is active.

Everything an event owns lives in one plain ``dict`` (``EventContext._data``): the event
itself under ``"event"``, the options under ``"options"``, the store sections of the 0.6 API
under their ``str`` names, and the typed slots of the 0.7 API under their slot objects.
One storage means one parent chain, one lifetime, and nothing to keep in sync between the
two APIs; slot objects can never collide with ``str`` section names.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from threading import get_ident
from typing import Any, Callable, Generic, Optional, cast

from typing_extensions import TypedDict, TypeVar

from ._errors import (
    CircularDependencyError,
    EventTypeMismatchError,
    KeyNotSetError,
    NoEventContextError,
    NoParentContextError,
)
from ._store import StoreSection

__all__ = [
    "EventContext",
    "EventLoggerOptions",
    "EventOptions",
    "Slot",
    "current",
    "try_get_current",
]

T = TypeVar("T")
S = TypeVar("S", bound=Mapping[str, Any], default=dict[str, Any])
E = TypeVar("E", bound=Mapping[str, Any], default=dict[str, Any])


class EventLoggerOptions(TypedDict, total=False):
    """Options of :func:`~event_core.use_event_logger` (``options["event_logger"]``)."""

    name: str


class EventOptions(TypedDict, total=False):
    """Options given to :func:`~event_core.create_event_context`; any mapping is accepted.

    .. versionadded:: 0.1.0
    """

    event_logger: EventLoggerOptions


class SlotState:
    """What a slot holds while it has no plain value: missing, being computed, or failed.

    A single class for all three keeps the hot path of ``EventContext.get`` to one dict
    lookup and one class-identity test.
    """

    __slots__ = ("error", "thread")

    def __init__(
        self,
        error: BaseException | None = None,
        thread: int | None = None,
    ) -> None:
        self.error = error
        self.thread = thread

    def __repr__(self) -> str:
        if self.error is not None:
            return f"<slot failed: {self.error!r}>"
        if self.thread is not None:
            return f"<slot being computed in thread {self.thread}>"
        return "<slot missing>"


MISSING = SlotState()

# One "being computed by thread T" marker per thread, reused: allocating one per computation
# would cost more than most factories. A marker means the same thing wherever it is found.
_computing: dict[int, SlotState] = {}


def compute_once(
    store: dict[Any, Any], key: object, name: str, factory: Callable[..., T], *args: Any
) -> T:
    """``store[key]``, computed by ``factory(*args)`` once even when threads race for it.

    The first thread to find the key missing stores its marker with ``setdefault`` (atomic)
    and computes; the others wait for its result. An ``Exception`` is stored as the result
    and re-raised on every read; any other ``BaseException`` (``KeyboardInterrupt``) is not
    an answer, so the key is left missing for a later read to try again. A thread that finds
    its own marker is in a cycle: the computation needs its own result.
    """
    while True:
        found: Any = store.get(key, MISSING)
        if found.__class__ is not SlotState:
            return found  # type: ignore[no-any-return]
        if found is MISSING:
            ident = get_ident()
            marker = _computing.get(ident)
            if marker is None:
                marker = _computing.setdefault(ident, SlotState(thread=ident))
            if store.setdefault(key, marker) is not marker:
                continue  # another thread got there first: look at what it stored
            try:
                value = factory(*args)
            except Exception as exc:
                store[key] = SlotState(error=exc)
                raise
            except BaseException:
                del store[key]
                raise
            store[key] = value
            return value
        if found.error is not None:
            raise found.error
        if found.thread == get_ident():
            raise CircularDependencyError(
                f'Circular dependency detected for "{name}": its factory needs its own '
                "value, directly or through other cached slots"
            )
        # Another thread is computing it. Two threads computing the same value of one event
        # is rare; polling keeps the common path free of any per-computation lock.
        while store.get(key) is found:
            time.sleep(0.0005)


class Slot(Generic[T]):
    """Base of the typed slots (:class:`~event_core.Key` and ``cached`` slots).

    A slot is its own identity: two slots with the same name are different slots. ``factory``
    is ``None`` for a writable :class:`~event_core.Key`; for a ``cached`` slot it computes
    the value from the event context on first read.
    """

    __slots__ = ("factory", "name")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _SLOT_CLASSES.add(cls)

    def __init__(self, name: str, factory: Callable[[EventContext[Any, Any]], T] | None) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"slot name must be a non-empty str, got {name!r}")
        self.name = name
        self.factory = factory

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


# Every Slot class: `key.__class__ in _SLOT_CLASSES` is the hot path's type check.
_SLOT_CLASSES: set[type] = {Slot}

# The one ContextVar of the library: the active event, or None outside any event.
active: ContextVar[EventContext[Any, Any] | None] = ContextVar("event_core.current", default=None)


def checked_event(event: object) -> tuple[dict[str, Any], str]:
    """A copy of ``event`` and its type, or the error that names what is wrong with it."""
    # The common case first: a dict with a non-empty str type. (`Any`, not cast(): cast is
    # a call at runtime, and the checkers narrow `__class__ is dict` differently.)
    given: Any = event
    copy: dict[str, Any]
    if given.__class__ is dict:
        copy = given.copy()
        found: Any = copy.get("type")
        if found.__class__ is str and found:
            return copy, found
    elif isinstance(given, Mapping):
        copy = dict(cast("Mapping[str, Any]", given))
    else:
        raise TypeError(
            f"event must be a mapping with a non-empty str under 'type', "
            f"got {type(event).__name__}: {short_repr(event)}"
        )
    event_type = copy.get("type")
    if event_type is None and "type" not in copy:
        raise ValueError(f"event has no 'type': {short_repr(copy)}; add e.g. 'type': 'JOB'")
    if not isinstance(event_type, str):
        raise TypeError(
            f"event 'type' must be a str, got {type(event_type).__name__}: {event_type!r}"
        )
    if not event_type:
        raise ValueError("event 'type' must be a non-empty str, got ''")
    return copy, event_type


def checked_options(options: object) -> Mapping[str, Any]:
    """``options`` as given (``{}`` for ``None``), or the error that names what is wrong."""
    if options is None:  # the runners' hot path does this test itself, saving the call
        return {}
    if options.__class__ is not dict and not isinstance(options, Mapping):
        raise TypeError(
            f"options must be a mapping or None, got {type(options).__name__}: "
            f"{short_repr(options)}"
        )
    return cast("Mapping[str, Any]", options)


def short_repr(value: object, limit: int = 80) -> str:
    """``repr`` for error messages: bounded, and never raises."""
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__} with failing repr: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_type_names(expected_type: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(expected_type, str):
        return (expected_type,)
    try:
        names = tuple(expected_type)
    except TypeError:
        raise TypeError(
            f"expected_type must be a str or an iterable of str, "
            f"got {type(expected_type).__name__}: {short_repr(expected_type)}"
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"expected_type must contain only str, got {type(name).__name__}: {name!r}"
            )
    return names


class EventContext(Generic[S, E]):
    """The context of one event: its event data, options, store sections and typed slots.

    One object per event; :func:`~event_core.use_event_context` returns it. It is generic in
    the store's shape ``S`` and the event's shape ``E`` so that adapters can give their
    users typed ``event`` and ``get_ctx()``.

    Example:
        >>> from event_core import EventContext
        >>> ctx = EventContext({"type": "JOB", "job_id": "j1"})
        >>> ctx.type, ctx.event["job_id"]
        ('JOB', 'j1')

    .. versionadded:: 0.1.0
    """

    __slots__ = ("__weakref__", "_data", "_parent", "_sections", "_type")

    def __init__(
        self,
        event: Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
        *,
        parent: EventContext[Any, Any] | None = None,
    ) -> None:
        event_copy, event_type = checked_event(event)
        if parent is not None and not isinstance(parent, EventContext):
            raise TypeError(f"parent must be an EventContext or None, got {short_repr(parent)}")
        self._type: str = event_type
        self._data: dict[Any, Any] = {"event": event_copy, "options": checked_options(options)}
        self._parent: EventContext[Any, Any] | None = parent
        self._sections: dict[str, StoreSection] = {}

    # -- the seed (0.6) API ------------------------------------------------------------------

    @property
    def type(self) -> str:
        """The event type, ``event["type"]``."""
        return self._type

    @property
    def event(self) -> E:
        """The event dict (a copy of what the runner was given)."""
        event: E = self._data["event"]  # an annotation, not cast(): no call at runtime
        return event

    @property
    def options(self) -> EventOptions:
        """The options, as given to the runner (``{}`` by default)."""
        options: EventOptions = self._data["options"]
        return options

    def get_ctx(self) -> S:
        """The event's whole store: ``"event"``, ``"options"``, every section and slot."""
        store: Any = self._data
        return store  # type: ignore[no-any-return]

    def store(self, key: str) -> StoreSection:
        """The section ``key`` of the store, the same object for every call in one event.

        Raises:
            TypeError: ``key`` is not a str, or the store holds a non-dict under ``key``.
        """
        sections = self._sections
        try:
            section = sections.get(key)
        except TypeError:  # unhashable: say which argument was wrong, below
            section = None
        if section is None:
            if not isinstance(key, str):
                raise TypeError(
                    f"store key must be a str, got {type(key).__name__}: {short_repr(key)}"
                )
            # setdefault: two threads racing here still end up with one section object.
            section = sections.setdefault(key, StoreSection(self._data, key))
        held = self._data.get(key)
        if held is not None and held.__class__ is not dict:
            section.check()
        return section

    def get_store(self, key: str, default: Any = None) -> Any:
        """The top-level store entry ``key``, or ``default``."""
        return self._data.get(key, default)

    def set_store(self, key: str, value: Any) -> None:
        """Replace the top-level store entry ``key`` (a whole section, for instance)."""
        if not isinstance(key, str):
            raise TypeError(f"store key must be a str, got {type(key).__name__}: {key!r}")
        self._data[key] = value

    @property
    def parent(self) -> EventContext[Any, Any] | None:
        """The parent context (active when this one was created), or ``None``."""
        return self._parent

    def has_parent_ctx(self) -> bool:
        """Whether this context has a parent."""
        return self._parent is not None

    def get_parent_ctx(self) -> EventContext[Any, Any]:
        """The parent context.

        Raises:
            NoParentContextError: this is a root context.
        """
        if self._parent is None:
            raise NoParentContextError(
                f"Parent context is not available: {self!r} is a root context "
                "(it was created outside any event)"
            )
        return self._parent

    def set_parent_ctx(self, ctx: EventContext[Any, Any] | None) -> None:
        """Make ``ctx`` this context's parent (``None`` detaches it).

        Raises:
            TypeError: ``ctx`` is not an EventContext.
            ValueError: the new parent chain would contain this context.
        """
        if ctx is not None and not isinstance(ctx, EventContext):
            raise TypeError(f"parent must be an EventContext or None, got {short_repr(ctx)}")
        ancestor: EventContext[Any, Any] | None = ctx
        while ancestor is not None:
            if ancestor is self:
                raise ValueError(f"set_parent_ctx({ctx!r}) would make {self!r} its own ancestor")
            ancestor = ancestor._parent
        self._parent = ctx

    def find(self, expected_type: str | Iterable[str]) -> EventContext[Any, Any] | None:
        """This context or the nearest ancestor whose type is one of ``expected_type``."""
        names = _check_type_names(expected_type)
        ctx: EventContext[Any, Any] | None = self
        while ctx is not None:
            if ctx._type in names:
                return ctx
            ctx = ctx._parent
        return None

    # -- typed slots (0.7 API) ---------------------------------------------------------------

    def get(self, key: Slot[T]) -> T:
        """The value of ``key`` here or in the nearest ancestor that has one.

        A ``cached`` slot found nowhere is computed here and kept for the event; a
        :class:`~event_core.Key` found nowhere raises :class:`~event_core.KeyNotSetError`.
        """
        value: Any = self._data.get(key, MISSING)
        if value.__class__ is not SlotState:
            return value  # type: ignore[no-any-return]
        return self._resolve(key, value)

    def set(self, key: Slot[T], value: T) -> T:
        """Store ``value`` where ``key`` already lives in the parent chain, else here."""
        if key.__class__ not in _SLOT_CLASSES:
            _check_slot(key)
        data = self._data
        if self._parent is None or data.get(key, MISSING).__class__ is not SlotState:
            # The common cases, decided without walking: a root context, or a slot that
            # already holds a value here.
            data[key] = value
            return value
        owner = self._owner(key)
        (owner if owner is not None else self)._data[key] = value
        return value

    def has(self, key: Slot[Any]) -> bool:
        """Whether ``key`` holds a value (or a cached error) here or in an ancestor."""
        if key.__class__ not in _SLOT_CLASSES:
            _check_slot(key)
        value = self._data.get(key, MISSING)
        if value.__class__ is not SlotState:
            return True
        if self._parent is None:
            return value.error is not None
        return self._owner(key) is not None

    def get_own(self, key: Slot[T]) -> T:
        """Like :meth:`get`, without looking at the parents."""
        value: Any = self._data.get(key, MISSING)
        if value.__class__ is not SlotState:
            return value  # type: ignore[no-any-return]
        if value is MISSING:
            _check_slot(key)
        return self._on_missing(key)

    def set_own(self, key: Slot[T], value: T) -> T:
        """Store ``value`` in this context, whatever the parents hold."""
        if key.__class__ not in _SLOT_CLASSES:
            _check_slot(key)
        self._data[key] = value
        return value

    def has_own(self, key: Slot[Any]) -> bool:
        """Whether ``key`` holds a value (or a cached error) in this context."""
        if key.__class__ not in _SLOT_CLASSES:
            _check_slot(key)
        value = self._data.get(key, MISSING)
        return value.__class__ is not SlotState or value.error is not None

    def _should_traverse_parent(self, key: Slot[Any]) -> bool:
        """Whether lookups of ``key`` may continue from this context to its parent.

        Override in a subclass to keep some slots local to the event.
        """
        return True

    def _owner(self, key: Slot[Any]) -> EventContext[Any, Any] | None:
        ctx: EventContext[Any, Any] = self
        while True:
            value = ctx._data.get(key, MISSING)
            if value.__class__ is not SlotState or value.error is not None:
                return ctx
            parent = ctx._parent
            if parent is None or not ctx._should_traverse_parent(key):
                return None
            ctx = parent

    def _resolve(self, key: Slot[T], state: SlotState) -> T:
        if state is not MISSING:
            return self._on_missing(key)
        if key.__class__ not in _SLOT_CLASSES:
            _check_slot(key)
        ctx: EventContext[Any, Any] = self
        while ctx._parent is not None and ctx._should_traverse_parent(key):
            ctx = ctx._parent
            value: Any = ctx._data.get(key, MISSING)
            if value.__class__ is not SlotState:
                return value  # type: ignore[no-any-return]
            if value is not MISSING:
                return ctx._on_missing(key)
        factory = key.factory
        if factory is not None:  # a cached slot found nowhere: computed here, as _on_missing does
            return compute_once(self._data, key, key.name, factory, self)
        return self._on_missing(key)

    def _on_missing(self, key: Slot[T]) -> T:
        """Answer a read of ``key`` that found no plain value here (nor in the parents)."""
        factory = key.factory
        if factory is None:
            raise KeyNotSetError(
                f'Key "{key.name}" is not set in {self!r}: call ctx.set(key, value) or seed it '
                "when creating the context"
            )
        return compute_once(self._data, key, key.name, factory, self)

    def seed(self, kind: builtins.type[Any], /, **values: Any) -> None:
        """Set the keys of an :class:`~event_core.EventKind` from keyword arguments.

        Raises:
            TypeError: ``kind`` is not an EventKind, or a name is not one of its keys.
        """
        keys: Mapping[str, Slot[Any]] | None = getattr(kind, "__event_keys__", None)
        if keys is None:
            raise TypeError(f"seed() takes an EventKind subclass, got {short_repr(kind)}")
        # checked before any write: a refused seed leaves the store unchanged
        if not values.keys() <= keys.keys():
            raise unknown_seed(kind, keys, values)
        data = self._data
        for attr, value in values.items():
            data[keys[attr]] = value

    def __repr__(self) -> str:
        try:
            sections = sorted(k for k in self._data if isinstance(k, str))
            slots = sum(1 for k in self._data if not isinstance(k, str))
            parent = f" parent={self._parent._type!r}" if self._parent is not None else ""
            return (
                f"<{type(self).__name__} type={self._type!r} store={sections} "
                f"slots={slots}{parent}>"
            )
        except Exception:  # repr never raises, even on a half-built subclass
            return f"<{type(self).__name__} at {id(self):#x}>"


_new_object = object.__new__


def new_context(
    event: dict[str, Any],
    event_type: str,
    options: Mapping[str, Any],
    parent: EventContext[Any, Any] | None,
    keys: Mapping[str, Slot[Any]] | None = None,
    seeds: Mapping[str, Any] | None = None,
) -> EventContext[Any, Any]:
    """An :class:`EventContext` of parts already checked (and copied): what runners make.

    It skips ``__init__``, whose checks the caller has done: creating the context is part
    of every event, and a class call with ``__init__`` costs a frame more than this.
    ``seeds`` set the slots that ``keys`` names them by (an :class:`~event_core.EventKind`'s
    keys); an unknown name raises ``KeyError`` for the caller to explain.
    """
    ctx: EventContext[Any, Any] = _new_object(EventContext)
    ctx._type = event_type  # pyright: ignore[reportPrivateUsage]
    data: dict[Any, Any] = {"event": event, "options": options}
    if seeds:
        for attr, value in seeds.items():
            data[keys[attr]] = value  # type: ignore[index]
    ctx._data = data  # pyright: ignore[reportPrivateUsage]
    ctx._parent = parent  # pyright: ignore[reportPrivateUsage]
    ctx._sections = {}  # pyright: ignore[reportPrivateUsage]
    return ctx


def unknown_seed(kind: type, keys: Mapping[str, Any], values: Mapping[str, Any]) -> TypeError:
    unknown = sorted(values.keys() - keys.keys())
    return TypeError(
        f"{kind.__name__} has no key {unknown[0]!r}; its keys are: " + ", ".join(sorted(keys))
    )


def _check_slot(key: object) -> None:
    if not isinstance(key, Slot):
        raise TypeError(
            f"expected a Key or a cached slot, got {type(key).__name__}: {short_repr(key)}"
        )


def current() -> EventContext[Any, Any]:
    """The active event context.

    Raises:
        NoEventContextError: no event is active here.

    .. versionadded:: 0.1.0
    """
    ctx = active.get()
    if ctx is None:
        raise no_context("current()")
    return ctx


def try_get_current() -> Optional[EventContext[Any, Any]]:
    """The active event context, or ``None`` outside any event.

    .. versionadded:: 0.1.0
    """
    return active.get()


def no_context(caller: str) -> NoEventContextError:
    return NoEventContextError(
        f"Event context does not exist at this point. {caller} was called outside any event: "
        "run the code inside a runner (create_event_context(...)(fn), `with runner:`), "
        "or carry the context across threads with bind()/snapshot()"
    )


def use_event_context(
    expected_type: str | Iterable[str] | None = None,
) -> EventContext[Any, Any]:
    """The active event context, or its nearest ancestor of ``expected_type``.

    Args:
        expected_type: an event type or several; ``None`` accepts any.

    Raises:
        NoEventContextError: no event is active.
        EventTypeMismatchError: neither the event nor an ancestor has a matching type.
        TypeError: ``expected_type`` is neither a str nor an iterable of str.

    Example:
        >>> from event_core import create_event_context, use_event_context
        >>> create_event_context({"type": "CLI"})(lambda: use_event_context("CLI").type)
        'CLI'

    .. versionadded:: 0.1.0
    """
    ctx = active.get()
    if ctx is None:
        raise no_context("use_event_context()")
    # Reading the slot directly: this is the hot path of every composable.
    if expected_type is None or ctx._type == expected_type:  # pyright: ignore[reportPrivateUsage]
        return ctx
    names = _check_type_names(expected_type)  # once: expected_type may be an iterator
    found = ctx.find(names)
    if found is None:
        expected = ", ".join(f'"{name}"' for name in names)
        raise EventTypeMismatchError(
            f'Event context type mismatch: expected {expected}, received "{ctx.type}"'
        )
    return found
