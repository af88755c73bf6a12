"""The built-in composables: the event id, a per-event logger, route parameters.

They are written with the same public tools an application uses (``use_event_context``,
``store``, ``define_wook``), so each one is also an example of how to write a composable.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from ._context import EventContext, use_event_context
from ._slots import cached_by

__all__ = [
    "EventIdComposable",
    "EventLogger",
    "RouteParams",
    "use_event_id",
    "use_event_logger",
    "use_route_params",
]

DEFAULT_LOGGER_NAME = "event_core.event"

if TYPE_CHECKING:
    _LoggerAdapter = logging.LoggerAdapter[logging.Logger]
else:  # LoggerAdapter is subscriptable at runtime only from Python 3.11
    _LoggerAdapter = logging.LoggerAdapter


def _new_id() -> str:
    return str(uuid.uuid4())


class EventIdComposable(NamedTuple):
    """What :func:`use_event_id` returns."""

    ctx: EventContext[Any, Any]

    def get_id(self) -> str:
        """The event's id: ``event["id"]`` if given, else a uuid4 made once per event.

        An id given as ``None`` counts as absent; one of another type is returned as ``str``.
        """
        # Stored into the event itself (the runner's copy), as the original does.
        event = self.ctx.store("event")
        event_id: Any = event.init("id", _new_id)
        if event_id.__class__ is str:
            return event_id
        if event_id is None:
            return event.set("id", _new_id())
        return str(event_id)


def use_event_id() -> EventIdComposable:
    """The id of the active event.

    Example:
        >>> from event_core import create_event_context, use_event_id
        >>> create_event_context({"type": "JOB", "id": "job-7"})(lambda: use_event_id().get_id())
        'job-7'

    .. versionadded:: 0.1.0
    """
    return EventIdComposable(use_event_context())


class EventLogger(_LoggerAdapter):
    """A ``LoggerAdapter`` whose records carry ``event_id`` and ``event_type``.

    ``extra=`` given to a logging call is merged with (not replaced by) the event's fields.
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = kwargs.get("extra")
        kwargs["extra"] = (
            dict(self.extra or {}) if extra is None else {**(self.extra or {}), **extra}
        )
        return msg, kwargs

    def __repr__(self) -> str:
        extra = dict(self.extra or {})
        return (
            f"<EventLogger {self.logger.name!r} event_id={extra.get('event_id')!r} "
            f"event_type={extra.get('event_type')!r}>"
        )


@cached_by
def _event_logger(topic: Optional[str], ctx: EventContext[Any, Any]) -> EventLogger:
    options = ctx.options.get("event_logger") or {}
    name = options.get("name") or DEFAULT_LOGGER_NAME
    if topic:
        name = f"{name}.{topic}"
    extra = {"event_id": EventIdComposable(ctx).get_id(), "event_type": ctx.type}
    return EventLogger(logging.getLogger(name), extra)


def use_event_logger(topic: Optional[str] = None) -> EventLogger:
    """A logger for the active event, the same object per event and topic.

    The logger is named ``options["event_logger"]["name"]`` (default ``"event_core.event"``),
    plus ``.<topic>`` when a topic is given.

    Example:
        >>> from event_core import create_event_context, use_event_logger
        >>> run = create_event_context({"type": "JOB", "id": "j1"})
        >>> run(lambda: use_event_logger("db").logger.name)
        'event_core.event.db'

    .. versionadded:: 0.1.0
    """
    if topic is not None and not isinstance(topic, str):
        raise TypeError(f"use_event_logger() topic must be a str or None, got {topic!r}")
    return _event_logger(topic, use_event_context())


class RouteParams(NamedTuple):
    """What :func:`use_route_params` returns."""

    params: dict[str, Any]

    def get(self, name: str) -> Any:
        """The parameter ``name``, or ``None``."""
        return self.params.get(name)


def use_route_params() -> RouteParams:
    """The route parameters an adapter stored under the store key ``"route_params"``.

    Example:
        >>> from event_core import create_event_context, use_route_params
        >>> run = create_event_context({"type": "HTTP"}, route_params={"id": "42"})
        >>> run(lambda: use_route_params().get("id"))
        '42'

    .. versionadded:: 0.1.0
    """
    params = use_event_context().get_store("route_params")
    return RouteParams({} if params is None else params)
