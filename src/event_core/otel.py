"""OpenTelemetry tracing for event-core: one span per run of a runner.

Install an :class:`OpenTelemetryInjector` with :func:`event_core.replace_context_injector`
and every run of every runner (``runner(handler)``, ``await runner(async_handler)``,
:func:`event_core.job.run_job`, the Celery integration) becomes a span named after the
event type. Spans nest like events do: an event started inside another event's handler
gets a child span, because the outer span is the current span while the handler runs.

Only ``opentelemetry-api`` is imported: what happens to the spans (sampling, exporting) is
decided by the tracer provider the application configured, so this module works with the
SDK, with a vendor distribution, or with no provider at all (then spans are no-ops).

Example:
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    ...     InMemorySpanExporter,
    ... )
    >>> from event_core import create_event_context, replace_context_injector
    >>> from event_core import reset_context_injector
    >>> from event_core.otel import OpenTelemetryInjector
    >>> exporter = InMemorySpanExporter()
    >>> provider = TracerProvider()
    >>> provider.add_span_processor(SimpleSpanProcessor(exporter))
    >>> replace_context_injector(OpenTelemetryInjector(provider))
    >>> create_event_context({"type": "CLI", "id": "cli-1"})(lambda: "done")
    'done'
    >>> reset_context_injector()
    >>> [(s.name, s.attributes["event.id"]) for s in exporter.get_finished_spans()]
    [('CLI', 'cli-1')]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Callable, TypeVar, cast

try:
    from opentelemetry import trace
    from opentelemetry.util.types import AttributeValue
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "event_core.otel needs the OpenTelemetry API, which is not installed: "
        "pip install 'event-core[otel]'"
    ) from exc

import event_core
from event_core import ContextInjector, EventContext, EventIdComposable, try_get_current

__all__ = [
    "ATTR_EVENT_ID",
    "ATTR_EVENT_TYPE",
    "ATTR_JOB_ID",
    "OpenTelemetryInjector",
]

R = TypeVar("R")

#: Span attribute holding the event type (``"JOB"``, ``"HTTP"``...); also the span's name.
ATTR_EVENT_TYPE = "event.type"
#: Span attribute holding the event id, as ``use_event_id().get_id()`` returns it.
ATTR_EVENT_ID = "event.id"
#: Span attribute holding ``event["job_id"]``, set on spans of JOB events only.
ATTR_JOB_ID = "job.id"

_INSTRUMENTATION_NAME = "event_core"


class OpenTelemetryInjector(ContextInjector):
    """A context injector that wraps every run of a runner in an OpenTelemetry span.

    The span is named after the event type and carries :data:`ATTR_EVENT_TYPE`,
    :data:`ATTR_EVENT_ID` and, for JOB events, :data:`ATTR_JOB_ID`. It is the current span
    while the handler runs, so spans made inside (an HTTP client's, a nested event's) are
    its children. A handler that raises an ``Exception`` gets it recorded on the span with
    an error status, as :func:`opentelemetry.trace.use_span` does; a ``BaseException`` that
    is not an ``Exception`` (cancellation, ``KeyboardInterrupt``) ends the span without
    marking it failed, again as OpenTelemetry's own helper does. For an async handler the
    span stays current until the coroutine finishes, fails or is cancelled, and is ended
    then. A ``with runner:`` block gets its span the same way, through
    :meth:`scope`.

    Args:
        tracer_provider: where the spans go; ``None`` (the default) uses the global
            provider, looked up at each span so that one configured later is still used.

    Raises:
        TypeError: ``tracer_provider`` is neither ``None`` nor a ``TracerProvider``.

    Example:
        >>> import asyncio
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        ...     InMemorySpanExporter,
        ... )
        >>> from event_core import replace_context_injector, reset_context_injector
        >>> from event_core.job import run_job
        >>> from event_core.otel import OpenTelemetryInjector
        >>> exporter = InMemorySpanExporter()
        >>> provider = TracerProvider()
        >>> provider.add_span_processor(SimpleSpanProcessor(exporter))
        >>> replace_context_injector(OpenTelemetryInjector(provider))
        >>> async def handler():
        ...     await asyncio.sleep(0)
        ...     return 42
        >>> asyncio.run(run_job({"job_id": "j1", "input": {}}, handler))
        42
        >>> reset_context_injector()
        >>> span = exporter.get_finished_spans()[0]
        >>> span.name, span.attributes["job.id"]
        ('JOB', 'j1')

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_provider", "_tracer")

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        if tracer_provider is not None and not isinstance(tracer_provider, trace.TracerProvider):
            raise TypeError(
                "OpenTelemetryInjector() tracer_provider must be an "
                "opentelemetry.trace.TracerProvider or None (the global provider), "
                f"got {type(tracer_provider).__name__}"
            )
        self._provider = tracer_provider
        # With no provider, get_tracer returns a proxy tracer that follows the global
        # provider, so an application may set its provider after installing the injector.
        self._tracer = trace.get_tracer(
            _INSTRUMENTATION_NAME, event_core.__version__, tracer_provider
        )

    @property
    def tracer_provider(self) -> trace.TracerProvider | None:
        """The provider given to the constructor, or ``None`` for the global one."""
        return self._provider

    def with_(self, name: str, attributes: Mapping[str, Any], fn: Callable[[], R]) -> R:
        """Run ``fn`` inside a new span that is current while it runs.

        Called by the runner with the event already active. If ``fn()`` returns an
        awaitable (an async handler), the span is left open and a coroutine is returned
        in its place that makes the span current again, awaits the handler and ends the
        span, whatever way the handler finishes.
        """
        span = self._start_span(name, attributes)
        try:
            # use_span records an Exception and sets the error status; ending is ours.
            with trace.use_span(span):
                result = fn()
        except BaseException:
            span.end()
            raise
        if inspect.isawaitable(result):
            # R is the awaitable's type; the runner only ever awaits what we return.
            return cast("R", _end_after(span, result))
        span.end()
        return result

    def scope(self, name: str, attributes: Mapping[str, Any]) -> AbstractContextManager[object]:
        """A span around a ``with runner:`` block, current inside it and ended on exit.

        An exception leaving the block is recorded with an error status, as in ``with_``.
        """
        return trace.use_span(self._start_span(name, attributes), end_on_exit=True)

    def _start_span(self, name: str, attributes: Mapping[str, Any]) -> trace.Span:
        ctx = try_get_current()
        event_type = attributes.get("event_type")
        if not isinstance(event_type, str):
            event_type = ctx.type if ctx is not None else name
        return self._tracer.start_span(event_type, attributes=_span_attributes(event_type, ctx))

    def hook(self, method: str, name: str, route: str | None = None) -> None:
        """Add a span event ``name`` (with the method and route) to the current span.

        Adapters call ``hook`` at points of interest, such as a matched route; the event
        shows that point on the timeline of the event's span.
        """
        span = trace.get_current_span()
        if not span.is_recording():
            return
        event_attributes: dict[str, AttributeValue] = {"event.hook.method": method}
        if route is not None:
            event_attributes["event.hook.route"] = route
        span.add_event(name, event_attributes)

    def __repr__(self) -> str:
        try:
            provider = "global" if self._provider is None else type(self._provider).__qualname__
        except Exception:  # pragma: no cover - repr must never raise
            provider = "?"
        return f"<OpenTelemetryInjector tracer_provider={provider}>"


def _span_attributes(
    event_type: str, ctx: EventContext[Any, Any] | None
) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {ATTR_EVENT_TYPE: event_type}
    if ctx is None:
        return attributes
    attributes[ATTR_EVENT_ID] = _attribute_value(EventIdComposable(ctx).get_id())
    if ctx.type == "JOB":
        job_id = ctx.event.get("job_id")
        if job_id is not None:
            attributes[ATTR_JOB_ID] = _attribute_value(job_id)
    return attributes


def _attribute_value(value: object) -> AttributeValue:
    # Span attributes must be primitives: anything else (a UUID object...) is shown as str.
    if isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


async def _end_after(span: trace.Span, awaitable: Awaitable[R]) -> R:
    # Attach and detach happen in this coroutine, so in the one task that awaits it:
    # OpenTelemetry's context is a ContextVar, and a token must be reset where it was set.
    with trace.use_span(span, end_on_exit=True):
        return await awaitable
