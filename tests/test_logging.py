"""event_core.logging: event id and type on stdlib log records and structlog event dicts."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

from event_core import create_event_context, use_event_id, use_event_logger
from event_core.logging import EventContextFilter, add_event_context

LOGGER = "tests.event_core_logging"


@pytest.fixture
def filtered_caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog whose handler has the EventContextFilter, as an application would set it up."""
    flt = EventContextFilter()
    caplog.handler.addFilter(flt)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    yield caplog
    caplog.handler.removeFilter(flt)


class TestEventContextFilter:
    """The logging.Filter for plain loggers."""

    def test_fields_inside_an_event(self, filtered_caplog: pytest.LogCaptureFixture) -> None:
        """A record logged inside an event carries its id and type."""
        run = create_event_context({"type": "HTTP", "id": "req-1"})
        run(lambda: logging.getLogger(LOGGER).info("inside"))
        (record,) = filtered_caplog.records
        assert (record.event_id, record.event_type) == ("req-1", "HTTP")  # type: ignore[attr-defined]

    def test_none_outside_any_event(self, filtered_caplog: pytest.LogCaptureFixture) -> None:
        """A record logged outside any event gets None for both fields."""
        logging.getLogger(LOGGER).warning("outside")
        (record,) = filtered_caplog.records
        assert record.event_id is None  # type: ignore[attr-defined]
        assert record.event_type is None  # type: ignore[attr-defined]

    def test_lazily_generated_id(self, filtered_caplog: pytest.LogCaptureFixture) -> None:
        """An event without an id: the record has the id use_event_id() returns."""
        run = create_event_context({"type": "CLI"})
        run(lambda: logging.getLogger(LOGGER).info("x"))
        assert filtered_caplog.records[0].event_id == run(lambda: use_event_id().get_id())  # type: ignore[attr-defined]

    def test_innermost_event(self, filtered_caplog: pytest.LogCaptureFixture) -> None:
        """In nested events, records name the innermost one, then the outer one again."""
        log = logging.getLogger(LOGGER)

        def outer() -> None:
            create_event_context({"type": "JOB", "id": "inner"})(lambda: log.info("a"))
            log.info("b")

        create_event_context({"type": "HTTP", "id": "outer"})(outer)
        assert [(r.getMessage(), r.event_id) for r in filtered_caplog.records] == [  # type: ignore[attr-defined]
            ("a", "inner"),
            ("b", "outer"),
        ]

    def test_concurrent_tasks_each_see_their_event(
        self, filtered_caplog: pytest.LogCaptureFixture
    ) -> None:
        """Interleaved asyncio tasks: every record names the event of the task that logged."""
        log = logging.getLogger(LOGGER)

        async def handler(n: int) -> None:
            for step in range(3):
                log.info("task %d step %d", n, step)
                await asyncio.sleep(0)

        async def main() -> None:
            await asyncio.gather(
                *(
                    create_event_context({"type": "JOB", "id": f"job-{n}"})(handler, n)
                    for n in range(3)
                )
            )

        asyncio.run(main())
        records = [r for r in filtered_caplog.records if r.name == LOGGER]
        assert len(records) == 9
        assert [r.args[0] for r in records[:3]] == [0, 1, 2]  # type: ignore[index]
        assert all(r.event_id == f"job-{r.args[0]}" for r in records)  # type: ignore[attr-defined,index]

    def test_never_drops_a_record(self) -> None:
        """filter() returns True inside and outside events."""
        flt = EventContextFilter()
        outside = logging.makeLogRecord({"msg": "m"})
        inside = logging.makeLogRecord({"msg": "m"})
        assert flt.filter(outside) is True
        assert create_event_context({"type": "CLI"})(flt.filter, inside) is True

    def test_keeps_fields_given_with_extra(self, filtered_caplog: pytest.LogCaptureFixture) -> None:
        """A field given with extra= is not overwritten; the missing one is added."""
        run = create_event_context({"type": "HTTP", "id": "req-2"})
        run(lambda: logging.getLogger(LOGGER).info("x", extra={"event_id": "mine"}))
        (record,) = filtered_caplog.records
        assert (record.event_id, record.event_type) == ("mine", "HTTP")  # type: ignore[attr-defined]

    def test_keeps_the_event_of_use_event_logger(
        self, filtered_caplog: pytest.LogCaptureFixture
    ) -> None:
        """A use_event_logger record logged under another event keeps its logger's event."""
        first = create_event_context({"type": "JOB", "id": "first"})
        adapter = first(use_event_logger)
        create_event_context({"type": "HTTP", "id": "second"})(lambda: adapter.warning("x"))
        (record,) = filtered_caplog.records
        assert (record.event_id, record.event_type) == ("first", "JOB")  # type: ignore[attr-defined]

    def test_on_a_handler_covers_child_loggers(self) -> None:
        """On a handler, the filter sees records propagated from every child logger."""
        seen: list[logging.LogRecord] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                seen.append(record)

        handler = Keep()
        handler.addFilter(EventContextFilter())
        parent = logging.getLogger(f"{LOGGER}.parent")
        parent.addHandler(handler)
        parent.setLevel(logging.INFO)
        try:
            run = create_event_context({"type": "CLI", "id": "c-1"})
            run(lambda: logging.getLogger(f"{LOGGER}.parent.child.grandchild").info("deep"))
        finally:
            parent.removeHandler(handler)
        assert [(r.name, r.event_id) for r in seen] == [  # type: ignore[attr-defined]
            (f"{LOGGER}.parent.child.grandchild", "c-1")
        ]

    def test_repr(self) -> None:
        """repr names the class and the fields it sets."""
        assert repr(EventContextFilter()) == "<EventContextFilter fields='event_id', 'event_type'>"


class TestUseEventLogger:
    """Records of the built-in use_event_logger carry the event fields by themselves."""

    def test_records_carry_event_fields(self, caplog: pytest.LogCaptureFixture) -> None:
        """use_event_logger records have event_id and event_type, with no filter at all."""
        caplog.set_level(logging.INFO)
        run = create_event_context({"type": "JOB", "id": "job-9"})
        run(lambda: use_event_logger("db").info("query"))
        (record,) = caplog.records
        assert record.name == "event_core.event.db"
        assert (record.event_id, record.event_type) == ("job-9", "JOB")  # type: ignore[attr-defined]

    def test_format_string_with_event_fields(self) -> None:
        """A handler formatting %(event_id)s works for records inside and outside events."""
        lines: list[str] = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                lines.append(self.format(record))

        handler = Collect()
        handler.setFormatter(logging.Formatter("%(event_type)s %(event_id)s %(message)s"))
        handler.addFilter(EventContextFilter())
        log = logging.getLogger(f"{LOGGER}.format")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        try:
            create_event_context({"type": "HTTP", "id": "r-1"})(lambda: log.info("in"))
            log.info("out")
        finally:
            log.removeHandler(handler)
        assert lines == ["HTTP r-1 in", "None None out"]


class TestStructlogProcessor:
    """add_event_context, the structlog processor."""

    def test_adds_the_keys_inside_an_event(self) -> None:
        """Inside an event the event dict gets event_id and event_type."""
        with capture_logs(processors=[add_event_context]) as logs:
            run = create_event_context({"type": "HTTP", "id": "req-3"})
            run(lambda: structlog.get_logger().info("handled", path="/"))
        assert logs == [
            {
                "event": "handled",
                "path": "/",
                "log_level": "info",
                "event_id": "req-3",
                "event_type": "HTTP",
            }
        ]

    def test_unchanged_outside_any_event(self) -> None:
        """Outside any event the same dict comes back, with nothing added."""
        event_dict = {"event": "x"}
        assert add_event_context(None, "info", event_dict) is event_dict
        assert event_dict == {"event": "x"}
        with capture_logs(processors=[add_event_context]) as logs:
            structlog.get_logger().info("outside")
        assert logs == [{"event": "outside", "log_level": "info"}]

    def test_returns_the_same_dict_inside_an_event(self) -> None:
        """The processor changes the dict in place and returns it."""
        event_dict = {"event": "x"}
        run = create_event_context({"type": "CLI", "id": "c"})
        assert run(add_event_context, None, "info", event_dict) is event_dict
        assert event_dict == {"event": "x", "event_id": "c", "event_type": "CLI"}

    def test_bound_values_are_kept(self) -> None:
        """A key bound explicitly wins over the event's, as merge_contextvars does."""
        with capture_logs(processors=[add_event_context]) as logs:
            run = create_event_context({"type": "HTTP", "id": "req-4"})
            run(lambda: structlog.get_logger().bind(event_id="bound").info("x"))
        assert (logs[0]["event_id"], logs[0]["event_type"]) == ("bound", "HTTP")

    def test_lazily_generated_id(self) -> None:
        """An event without an id: the dict gets the id use_event_id() returns."""
        with capture_logs(processors=[add_event_context]) as logs:
            run = create_event_context({"type": "CLI"})
            run(lambda: structlog.get_logger().info("x"))
        assert logs[0]["event_id"] == run(lambda: use_event_id().get_id())

    def test_module_does_not_import_structlog(self) -> None:
        """Importing event_core.logging does not import structlog."""
        code = "import sys, event_core.logging; sys.exit(1 if 'structlog' in sys.modules else 0)"
        assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
