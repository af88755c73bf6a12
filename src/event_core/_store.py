"""Store sections: the named ``dict`` s of the 0.6 API, ``store("job").init/get/set``.

A :class:`StoreSection` reads its dict from the event's store on every call instead of
caching it, so ``set_store(name, {...})`` or ``section.value = {...}`` is seen at once;
the cost is one dict lookup, and the common case (a real ``dict``) is one identity test.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Generic, TypeVar, cast

__all__ = ["StoreHook", "StoreSection"]

V = TypeVar("V")
_ABSENT: Any = object()
_hooks_made = threading.Lock()


class StoreSection:
    """One section of an event's store, as returned by ``ctx.store(name)``.

    The section's dict is created on the first write; until then ``value`` is ``None``.

    Example:
        >>> from event_core import create_event_context, use_event_context
        >>> def handler():
        ...     job = use_event_context().store("job")
        ...     job.init("status", lambda: "pending")
        ...     job.set("status", "running")
        ...     return job.value
        >>> create_event_context({"type": "JOB"})(handler)
        {'status': 'running'}

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_data", "_hooks", "_name")

    def __init__(self, data: dict[Any, Any], name: str) -> None:
        self._data = data
        self._name = name
        # made by the first hook() call: most sections never have a hook
        self._hooks: dict[str, StoreHook[Any]] | None = None

    @property
    def name(self) -> str:
        """The section's key in the store."""
        return self._name

    @property
    def value(self) -> dict[str, Any] | None:
        """The section dict, or ``None`` before anything was written to it."""
        section = self._data.get(self._name)
        if section.__class__ is not dict and section is not None:
            section = self._checked(section)
        return section

    @value.setter
    def value(self, new: dict[str, Any] | None) -> None:
        if new is not None and not isinstance(new, dict):
            raise TypeError(
                f"store section {self._name!r} must hold a dict, got {type(new).__name__}"
            )
        if new is None:
            self._data.pop(self._name, None)
        else:
            self._data[self._name] = new

    def check(self) -> None:
        """Raise :class:`TypeError` if the store holds something other than a dict here."""
        section = self._data.get(self._name)
        if section.__class__ is not dict and section is not None:
            self._checked(section)

    def _checked(self, section: object) -> dict[str, Any]:
        if isinstance(section, dict):
            return cast("dict[str, Any]", section)  # a dict subclass
        raise TypeError(
            f"store section {self._name!r} holds a {type(section).__name__}, not a dict: "
            f"set_store({self._name!r}, {{...}}) or section.value = {{...}} to replace it"
        )

    def _section(self) -> dict[str, Any]:
        """The section dict, created empty if missing (for writes)."""
        data = self._data
        # setdefault: threads of one event making the section at once share one dict, so
        # that neither loses the entry it writes.
        section = data.setdefault(self._name, {})
        if section.__class__ is dict:
            return cast("dict[str, Any]", section)
        if section is None:  # the store holds None under this name: replace it
            new: dict[str, Any] = {}
            data[self._name] = new
            return new
        return self._checked(section)

    def init(self, key: str, factory: Callable[[], V]) -> V:
        """The value under ``key``; if absent, ``factory()`` is called once, stored, returned.

        If ``factory`` raises, nothing is stored and the section is not created.
        """
        # `Any`, not a cast: this is the hot path, and cast() is a call at runtime.
        section: Any = self._data.get(self._name)
        if section.__class__ is not dict:
            if section is None:
                created: V = factory()
                return self._section().setdefault(key, created)  # type: ignore[no-any-return]
            section = self._checked(section)
        # get() with a sentinel rather than try/except: a miss is as common as a hit here
        # (every init of a new event), and raising KeyError costs more than the lookup.
        found: Any = section.get(key, _ABSENT)
        if found is _ABSENT:
            # setdefault: if another thread of the same event stored a value meanwhile,
            # every caller gets that one stored value.
            return section.setdefault(key, factory())  # type: ignore[no-any-return]
        return found  # type: ignore[no-any-return]

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""
        section: Any = self._data.get(self._name)
        if section.__class__ is not dict:
            if section is None:
                return default
            section = self._checked(section)
        return section.get(key, default)

    def set(self, key: str, value: V) -> V:
        """Store ``value`` under ``key`` and return it."""
        section: Any = self._data.get(self._name)
        if section.__class__ is not dict:
            section = self._section()
        section[key] = value
        return value

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (``None`` is a value, not absence)."""
        section = self.value
        return section is not None and key in section

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it is absent."""
        section = self.value
        if section is not None:
            section.pop(key, None)

    def entries(self) -> list[tuple[str, Any]]:
        """The ``(key, value)`` pairs, in insertion order."""
        section = self.value
        return [] if section is None else list(section.items())

    def clear(self) -> None:
        """Make the section ``{}``."""
        self._section().clear()

    def hook(self, key: str) -> StoreHook[Any]:
        """A :class:`StoreHook` bound to ``key``, the same object on every call."""
        hooks = self._hooks
        if hooks is None:
            with _hooks_made:  # threads racing here must end up with one dict of hooks
                hooks = self._hooks
                if hooks is None:
                    hooks = self._hooks = {}
        hook = hooks.get(key)
        if hook is None:
            hook = hooks.setdefault(key, StoreHook(self, key))
        return hook

    def __repr__(self) -> str:
        try:
            section = self._data.get(self._name)
            if isinstance(section, dict):
                keys = list(cast("dict[str, Any]", section))
                return f"<StoreSection {self._name!r} keys={keys!r}>"
            if section is None:
                return f"<StoreSection {self._name!r} (empty)>"
            return f"<StoreSection {self._name!r} holding {type(section).__name__}>"
        except Exception:
            return f"<StoreSection at {id(self):#x}>"


class StoreHook(Generic[V]):
    """A handle on one entry of a section: ``hook.value`` reads and writes it.

    Example:
        >>> from event_core import create_event_context, use_event_context
        >>> def handler():
        ...     hook = use_event_context().store("user").hook("name")
        ...     before = hook.is_defined
        ...     hook.value = "ada"
        ...     return before, hook.is_defined, hook.value
        >>> create_event_context({"type": "HTTP"})(handler)
        (False, True, 'ada')

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_key", "_section")

    def __init__(self, section: StoreSection, key: str) -> None:
        self._section = section
        self._key = key

    @property
    def value(self) -> V:
        """The entry's value (``None`` when it is absent)."""
        return self._section.get(self._key)  # type: ignore[no-any-return]

    @value.setter
    def value(self, new: V) -> None:
        self._section.set(self._key, new)

    @property
    def is_defined(self) -> bool:
        """Whether the entry is present in the section."""
        return self._section.has(self._key)

    def __repr__(self) -> str:
        try:
            state = repr(self.value) if self.is_defined else "undefined"
        except Exception:
            state = "?"
        return f"<StoreHook {self._section.name!r}.{self._key!r} = {state}>"
