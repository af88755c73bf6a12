"""The exception hierarchy.

Every error the library raises on purpose derives from :class:`EventContextError`, itself a
:class:`RuntimeError`, so callers can catch "anything event-core refused" with one clause
while bad *arguments* stay ordinary :class:`TypeError`/:class:`ValueError`.
"""

from __future__ import annotations

__all__ = [
    "CircularDependencyError",
    "EventContextError",
    "EventTypeMismatchError",
    "KeyNotSetError",
    "NoEventContextError",
    "NoParentContextError",
]


class EventContextError(RuntimeError):
    """Base class of every error event-core raises about the state of an event context.

    .. versionadded:: 0.1.0
    """


class NoEventContextError(EventContextError):
    """Raised when code that needs an event runs outside of any event.

    .. versionadded:: 0.1.0
    """


class EventTypeMismatchError(EventContextError):
    """Raised when neither the active event nor any ancestor has the expected type.

    .. versionadded:: 0.1.0
    """


class NoParentContextError(EventContextError):
    """Raised by ``get_parent_ctx()`` on a root context.

    .. versionadded:: 0.1.0
    """


class KeyNotSetError(EventContextError):
    """Raised when a :class:`~event_core.Key` is read before anything was stored in it.

    .. versionadded:: 0.1.0
    """


class CircularDependencyError(EventContextError):
    """Raised when a ``cached`` slot's factory needs its own value, directly or not.

    .. versionadded:: 0.1.0
    """
