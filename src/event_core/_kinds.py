"""Event kinds: classes whose annotated ``Key[...]`` attributes become the event's keys.

``class Http(EventKind, name="http"): method: Key[str]`` replaces the attribute with
``Key("http.method")``, so ``ctx.get(Http.method)`` is typed ``str`` by the checkers with no
plugin, and ``Http.create_context(method="GET")`` seeds the keys of a new event.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any, ClassVar, Dict, Optional, get_origin

from ._context import EventContext, active
from ._runner import EventRunner
from ._slots import Key

__all__ = ["EventKind"]

# `from __future__ import annotations` turns annotations into strings; this recognises
# `Key[...]` whichever way the user imported it (`Key`, `event_core.Key`, `ec.Key`).
_KEY_ANNOTATION = re.compile(r"^\s*(?:[\w.]+\.)?Key\s*\[")


def _is_key_annotation(annotation: object, module: str) -> bool:
    if isinstance(annotation, str):
        if _KEY_ANNOTATION.match(annotation):
            return True
        namespace = vars(sys.modules[module]) if module in sys.modules else {}
        try:
            annotation = eval(annotation, dict(namespace))
        except Exception:
            return False
    return annotation is Key or get_origin(annotation) is Key


class EventKind:
    """Base class of event kinds; subclass with ``name=`` (the event type).

    Example:
        >>> from event_core import EventKind, Key, current
        >>> class Http(EventKind, name="http"):
        ...     method: Key[str]
        >>> Http.method
        Key('http.method')
        >>> Http.create_context(method="GET")(lambda: current().get(Http.method))
        'GET'

    .. versionadded:: 0.1.0
    """

    __event_type__: ClassVar[str]
    __event_keys__: ClassVar[Mapping[str, Key[Any]]] = {}

    def __init_subclass__(cls, *, name: Optional[str] = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is None:
            name = getattr(cls, "__event_type__", None) or cls.__name__
        if not isinstance(name, str) or not name:
            raise TypeError(f"EventKind name must be a non-empty str, got {name!r}")
        cls.__event_type__ = name
        keys: Dict[str, Key[Any]] = dict(cls.__event_keys__)  # noqa: UP006
        for attr, annotation in cls.__dict__.get("__annotations__", {}).items():
            if _is_key_annotation(annotation, cls.__module__):
                key: Key[Any] = Key(f"{name}.{attr}")
                setattr(cls, attr, key)
                keys[attr] = key
        cls.__event_keys__ = keys

    @classmethod
    def create_context(
        cls,
        options: Optional[Mapping[str, Any]] = None,
        /,
        **seeds: Any,
    ) -> EventRunner[Dict[str, Any], Dict[str, Any]]:  # noqa: UP006
        """A runner for a new event of this kind, its keys seeded from ``seeds``.

        Raises:
            TypeError: a seed name is not a key of this kind.
        """
        ctx: EventContext[Dict[str, Any], Dict[str, Any]] = EventContext(  # noqa: UP006
            {"type": cls.__event_type__}, options, parent=active.get()
        )
        ctx.seed(cls, **seeds)
        return EventRunner(ctx)

    def __init__(self) -> None:
        raise TypeError(
            f"{type(self).__name__} is an event kind, not instantiated: use "
            f"{type(self).__name__}.create_context(...) or ctx.seed({type(self).__name__}, ...)"
        )

    def __repr__(self) -> str:  # pragma: no cover - instances cannot be made
        return f"<{type(self).__name__}>"
