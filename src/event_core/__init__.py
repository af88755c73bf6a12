"""event-core: per-event context for Python, on ``contextvars``.

A port of the TypeScript ``@wooksjs/event-core``: each event (a request, a job, a command)
gets an :class:`EventContext`, active in the code that handles it, so composables deep in
the call stack can read and write the event's state without it being passed down.
"""

from __future__ import annotations

from ._composables import (
    EventIdComposable,
    EventLogger,
    RouteParams,
    use_event_id,
    use_event_logger,
    use_route_params,
)
from ._context import (
    EventContext,
    EventLoggerOptions,
    EventOptions,
    Slot,
    current,
    try_get_current,
    use_event_context,
)
from ._errors import (
    CircularDependencyError,
    EventContextError,
    EventTypeMismatchError,
    KeyNotSetError,
    NoEventContextError,
    NoParentContextError,
)
from ._injector import (
    ContextInjector,
    get_context_injector,
    replace_context_injector,
    reset_context_injector,
)
from ._kinds import EventKind
from ._runner import EventRunner, create_event_context, run
from ._slots import Cached, CachedBy, Key, Wook, cached, cached_by, define_wook
from ._store import StoreHook, StoreSection
from ._threads import bind, snapshot

__all__ = [
    "Cached",
    "CachedBy",
    "CircularDependencyError",
    "ContextInjector",
    "EventContext",
    "EventContextError",
    "EventIdComposable",
    "EventKind",
    "EventLogger",
    "EventLoggerOptions",
    "EventOptions",
    "EventRunner",
    "EventTypeMismatchError",
    "Key",
    "KeyNotSetError",
    "NoEventContextError",
    "NoParentContextError",
    "RouteParams",
    "Slot",
    "StoreHook",
    "StoreSection",
    "Wook",
    "bind",
    "cached",
    "cached_by",
    "create_event_context",
    "current",
    "define_wook",
    "get_context_injector",
    "replace_context_injector",
    "reset_context_injector",
    "run",
    "snapshot",
    "try_get_current",
    "use_event_context",
    "use_event_id",
    "use_event_logger",
    "use_route_params",
]

__version__ = "0.1.0"


def _present_as_public() -> None:
    """Show ``event_core.EventContext`` in reprs, tracebacks and docs, not the private module."""
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("event_core._"):
            obj.__module__ = __name__


_present_as_public()
del _present_as_public
