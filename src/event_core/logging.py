"""Logging integration: the active event's id and type on every log record.

:func:`event_core.use_event_logger` already gives its records ``event_id`` and
``event_type``. This module brings the same two fields to code that logs some other way:

* :class:`EventContextFilter`, a :class:`logging.Filter` for plain
  ``logging.getLogger(...)`` loggers (third-party libraries included);
* :func:`add_event_context`, a `structlog <https://www.structlog.org>`_ processor.

The fields are read where the record is made, so they name the event whose code logged,
whatever thread or asyncio task that is. structlog is not imported here: the processor is
a plain function that only follows structlog's calling convention, so this module costs
nothing to those who do not use structlog.

Example:
    >>> import logging
    >>> from event_core import create_event_context
    >>> from event_core.logging import EventContextFilter
    >>> records = []
    >>> class Keep(logging.Handler):
    ...     def emit(self, record):
    ...         records.append(record)
    >>> handler = Keep()
    >>> handler.addFilter(EventContextFilter())
    >>> log = logging.getLogger("example.module")
    >>> log.addHandler(handler)
    >>> create_event_context({"type": "CLI", "id": "c-1"})(lambda: log.warning("inside"))
    >>> log.warning("outside")
    >>> log.removeHandler(handler)
    >>> [(r.getMessage(), r.event_id, r.event_type) for r in records]
    [('inside', 'c-1', 'CLI'), ('outside', None, None)]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any, TypeVar

from event_core import EventIdComposable, try_get_current

__all__ = ["EVENT_ID_FIELD", "EVENT_TYPE_FIELD", "EventContextFilter", "add_event_context"]

#: Name of the record attribute (and structlog key) holding the event id.
EVENT_ID_FIELD = "event_id"
#: Name of the record attribute (and structlog key) holding the event type.
EVENT_TYPE_FIELD = "event_type"

EventDictT = TypeVar("EventDictT", bound=MutableMapping[str, Any])


class EventContextFilter(logging.Filter):
    """Set ``record.event_id`` and ``record.event_type`` from the event active at the log call.

    Outside any event both are ``None``, so a format string such as
    ``"%(event_id)s %(message)s"`` works for every record. The filter never drops a record,
    and it leaves alone a field the record already has: records from
    :func:`event_core.use_event_logger` keep the event of the logger that made them, and a
    value given with ``extra=`` wins.

    Attach it to a *handler* (``handler.addFilter(EventContextFilter())``) to cover every
    logger whose records reach that handler; a filter on a logger only sees records logged
    on that very logger, not those propagated from its children. Handlers run in the thread
    that logs, so the event is the right one; with a ``QueueHandler``, attach the filter to
    the ``QueueHandler`` itself, not to the handlers of the ``QueueListener``'s thread.

    Example:
        >>> import logging
        >>> from event_core import create_event_context
        >>> from event_core.logging import EventContextFilter
        >>> record = logging.makeLogRecord({"msg": "hello"})
        >>> run = create_event_context({"type": "JOB", "id": "job-1"})
        >>> run(EventContextFilter().filter, record)
        True
        >>> record.event_id, record.event_type
        ('job-1', 'JOB')

    .. versionadded:: 0.1.0
    """

    def __init__(self) -> None:
        # No logger-name filtering: this filter adds fields, it never selects records.
        super().__init__()

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the two fields where missing; always ``True`` (the record is kept)."""
        fields = record.__dict__
        if EVENT_ID_FIELD in fields and EVENT_TYPE_FIELD in fields:
            return True  # use_event_logger's records, or extra= with both: nothing to do
        ctx = try_get_current()
        if ctx is None:
            fields.setdefault(EVENT_ID_FIELD, None)
            fields.setdefault(EVENT_TYPE_FIELD, None)
        else:
            if EVENT_ID_FIELD not in fields:
                fields[EVENT_ID_FIELD] = EventIdComposable(ctx).get_id()
            fields.setdefault(EVENT_TYPE_FIELD, ctx.type)
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} fields={EVENT_ID_FIELD!r}, {EVENT_TYPE_FIELD!r}>"


def add_event_context(logger: object, method_name: str, event_dict: EventDictT) -> EventDictT:
    """A structlog processor adding ``event_id`` and ``event_type`` inside an event.

    Outside any event the dict is returned unchanged. Keys already in the dict (bound with
    ``log.bind(event_id=...)`` or passed to the log call) are kept, as structlog's own
    ``merge_contextvars`` does. Put it before the renderer in the processor chain.

    Args:
        logger: the wrapped logger (unused; part of structlog's processor signature).
        method_name: the name of the log method called (unused, likewise).
        event_dict: the event dict being built; it is changed in place and returned.

    Example:
        >>> import structlog
        >>> from structlog.testing import capture_logs
        >>> from event_core import create_event_context
        >>> from event_core.logging import add_event_context
        >>> with capture_logs(processors=[add_event_context]) as logs:
        ...     run = create_event_context({"type": "HTTP", "id": "r-1"})
        ...     run(lambda: structlog.get_logger().info("handled"))
        >>> logs[0]["event_id"], logs[0]["event_type"]
        ('r-1', 'HTTP')

    .. versionadded:: 0.1.0
    """
    ctx = try_get_current()
    if ctx is None:
        return event_dict
    if EVENT_ID_FIELD not in event_dict:
        event_dict[EVENT_ID_FIELD] = EventIdComposable(ctx).get_id()
    event_dict.setdefault(EVENT_TYPE_FIELD, ctx.type)
    return event_dict
