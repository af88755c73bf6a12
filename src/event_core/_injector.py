"""The context injector: one optional hook around every run of a runner.

Observability tools (tracing, metrics) install a :class:`ContextInjector` to wrap each
event. Nothing is installed by default, and the runner then pays one global read, so the
hook costs nothing to those who do not use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable, Optional, TypeVar

__all__ = [
    "ContextInjector",
    "get_context_injector",
    "replace_context_injector",
    "reset_context_injector",
]

R = TypeVar("R")


class ContextInjector:
    """Base class of context injectors; subclass it and override what you need.

    Example:
        >>> from event_core import ContextInjector, create_event_context
        >>> from event_core import replace_context_injector, reset_context_injector
        >>> seen = []
        >>> class Recorder(ContextInjector):
        ...     def with_(self, name, attributes, fn):
        ...         seen.append((name, dict(attributes)))
        ...         return fn()
        >>> replace_context_injector(Recorder())
        >>> create_event_context({"type": "JOB"})(lambda: "done")
        'done'
        >>> reset_context_injector()
        >>> seen
        [('Event:start', {'event_type': 'JOB'})]

    .. versionadded:: 0.1.0
    """

    def with_(self, name: str, attributes: Mapping[str, Any], fn: Callable[[], R]) -> R:
        """Run ``fn`` (the event's handler) inside whatever this injector provides.

        For an async handler ``fn()`` returns the awaitable; an injector that must see the
        handler finish wraps that awaitable and returns the wrapper.
        """
        return fn()

    def scope(self, name: str, attributes: Mapping[str, Any]) -> AbstractContextManager[object]:
        """The context manager that wraps a ``with runner:`` block (``with_`` cannot).

        ``with_`` is function-shaped, so a ``with`` block goes through this instead: it is
        entered after the event became active and exited with the block's exception, if
        any. The default does nothing; an injector that traces ``with`` blocks overrides it.

        .. versionadded:: 0.1.0
        """
        return nullcontext()

    def hook(self, method: str, name: str, route: str | None = None) -> None:
        """Called by adapters at points of interest (e.g. a matched route); no-op by default."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class _Registry:
    """Holds the installed injector; every run of a runner reads ``registry.installed``."""

    __slots__ = ("installed",)

    def __init__(self) -> None:
        self.installed: ContextInjector | None = None

    def __repr__(self) -> str:
        return f"<injector registry: {self.installed!r}>"


registry = _Registry()


def get_context_injector() -> Optional[ContextInjector]:
    """The installed injector, or ``None`` (the default).

    .. versionadded:: 0.1.0
    """
    return registry.installed


def replace_context_injector(injector: ContextInjector) -> None:
    """Install ``injector`` for every later run of every runner.

    Raises:
        TypeError: ``injector`` is not a ContextInjector.

    .. versionadded:: 0.1.0
    """
    if not isinstance(injector, ContextInjector):
        raise TypeError(
            f"replace_context_injector() takes a ContextInjector, got {type(injector).__name__}"
        )
    registry.installed = injector


def reset_context_injector() -> None:
    """Remove the installed injector.

    .. versionadded:: 0.1.0
    """
    registry.installed = None
