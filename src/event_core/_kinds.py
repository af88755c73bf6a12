"""Event kinds: classes whose annotated ``Key[...]`` attributes become the event's keys.

``class Http(EventKind, name="http"): method: Key[str]`` replaces the attribute with
``Key("http.method")``, so ``ctx.get(Http.method)`` is typed ``str`` by the checkers with no
plugin, and ``Http.create_context(method="GET")`` seeds the keys of a new event.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any, ClassVar, Optional, get_origin

from ._context import active, checked_options, new_context, unknown_seed
from ._runner import EventRunner, runner_of
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


def _own_annotations(cls: type) -> Mapping[str, Any]:
    """The annotations written in ``cls``'s own body (not inherited), unevaluated if possible."""
    if sys.version_info >= (3, 14):  # pragma: no cover - PEP 649: annotations are lazy
        import annotationlib

        return annotationlib.get_annotations(cls, format=annotationlib.Format.FORWARDREF)
    # Up to 3.13 a class's own annotations are the "__annotations__" of its own __dict__
    # (getattr would return a base class's when the class has none).
    annotations: Mapping[str, Any] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    return annotations


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
        # The keys of every base kind (several, with multiple inheritance), then our own.
        keys: dict[str, Key[Any]] = {}
        for base in reversed(cls.__mro__[1:]):
            keys.update(base.__dict__.get("__event_keys__", {}))
        for attr, annotation in _own_annotations(cls).items():
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
    ) -> EventRunner[dict[str, Any], dict[str, Any]]:
        """A runner for a new event of this kind, its keys seeded from ``seeds``.

        Raises:
            TypeError: a seed name is not a key of this kind.
        """
        event_type = cls.__event_type__
        options = {} if options is None else checked_options(options)
        keys = cls.__event_keys__
        try:
            ctx = new_context({"type": event_type}, event_type, options, active.get(), keys, seeds)
        except KeyError:
            raise unknown_seed(cls, keys, seeds) from None
        return runner_of(ctx)

    def __init__(self) -> None:
        raise TypeError(
            f"{type(self).__name__} is an event kind, not instantiated: use "
            f"{type(self).__name__}.create_context(...) or ctx.seed({type(self).__name__}, ...)"
        )

    def __repr__(self) -> str:  # pragma: no cover - instances cannot be made
        return f"<{type(self).__name__}>"
