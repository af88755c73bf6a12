"""The pytest plugin: SPEC section 7.

Most tests run inner test files with ``pytester``: in-process (``runpytest``) where the
inner run cannot disturb this process, in a subprocess where a plugin bug could leave an
event active in the outer test. A few tests at the end use the fixtures directly.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

from event_core import (
    EventContext,
    EventRunner,
    try_get_current,
    use_event_context,
    use_event_id,
)
from event_core.job import use_job_context, use_job_metadata, use_job_status

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

PREAMBLE = """
import asyncio
import pytest
from event_core import (
    EventContext, EventRunner, create_event_context, try_get_current, use_event_context,
)
from event_core.job import use_job_context, use_job_metadata, use_job_status

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""

# The three ways an inner test may be run: (decorator, "async " or "", an await point).
KINDS = {
    "sync": ("", "", "pass"),
    "asyncio": ("@pytest.mark.asyncio", "async ", "await asyncio.sleep(0)"),
    "anyio": ("@pytest.mark.anyio", "async ", "await asyncio.sleep(0)"),
}


def inner(kind: str, name: str, params: str, body: str, marks: str = "") -> str:
    """Source of one inner test of the given kind (sync, asyncio, anyio)."""
    mark, prefix, pause = KINDS[kind]
    lines = [mark, *marks.splitlines()] if mark else marks.splitlines()
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return "\n".join(
        [*lines, f"{prefix}def test_{name}_{kind}({params}):", f"    {pause}", indented, ""]
    )


def all_kinds(name: str, params: str, body: str, marks: str = "") -> list[str]:
    """The same inner test as a sync, a pytest-asyncio and an anyio test, each followed by a
    test asserting that no event is active any more (2 tests per kind)."""
    return [
        inner(kind, name, params, body, marks) + AFTER.replace("zz_after", f"after_{kind}")
        for kind in KINDS
    ]


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the inner tests in this process and check they left no event active here."""
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert try_get_current() is None
    return result


def make(pytester: pytest.Pytester, *tests: str) -> None:
    """Write the ini and one inner test file made of PREAMBLE and the given tests."""
    pytester.makeini(INI)
    pytester.makepyfile(PREAMBLE + "\n\n" + "\n\n".join(tests))


AFTER = """
def test_zz_after():
    assert try_get_current() is None
"""


class TestEventContextFixture:
    def test_default_type_test(self, pytester: pytest.Pytester) -> None:
        """event_context is an active "TEST" event for sync, asyncio and anyio tests."""
        body = """
assert isinstance(event_context, EventContext)
assert event_context.type == "TEST"
assert event_context.event == {"type": "TEST"}
assert use_event_context() is event_context
"""
        make(pytester, *all_kinds("default", "event_context", body))
        result = run_inner(pytester)
        result.assert_outcomes(passed=6)

    def test_marker_sets_type_and_fields(self, pytester: pytest.Pytester) -> None:
        """@pytest.mark.event_context(type=..., **fields) sets the fixture's event."""
        body = """
assert event_context.type == "HTTP"
assert event_context.event == {"type": "HTTP", "method": "GET", "path": "/users"}
assert use_event_context("HTTP") is event_context
"""
        marks = '@pytest.mark.event_context(type="HTTP", method="GET", path="/users")'
        make(pytester, *all_kinds("marker", "event_context", body, marks))
        result = run_inner(pytester)
        result.assert_outcomes(passed=6)

    def test_marker_fields_keep_default_type(self, pytester: pytest.Pytester) -> None:
        """A marker without type= adds fields to the default "TEST" event."""
        body = 'assert event_context.event == {"type": "TEST", "user": "ada"}'
        marks = '@pytest.mark.event_context(user="ada")'
        make(pytester, inner("sync", "fields", "event_context", body, marks))
        run_inner(pytester).assert_outcomes(passed=1)

    def test_class_marker(self, pytester: pytest.Pytester) -> None:
        """A marker on the class applies to its tests' event_context."""
        source = """
@pytest.mark.event_context(type="CLI")
class TestCli:
    def test_one(self, event_context):
        assert event_context.type == "CLI"
"""
        make(pytester, source)
        run_inner(pytester).assert_outcomes(passed=1)

    def test_marker_positional_args_refused(self, pytester: pytest.Pytester) -> None:
        """A marker with positional arguments is an error naming the marker."""
        source = """
@pytest.mark.event_context("HTTP")
def test_bad(event_context):
    pass
"""
        make(pytester, source, AFTER)
        result = run_inner(pytester)
        result.assert_outcomes(passed=1, errors=1)
        result.stdout.fnmatch_lines(["*event_context takes keyword arguments only*"])

    def test_each_test_gets_its_own_event(self, pytester: pytest.Pytester) -> None:
        """Two tests using event_context get distinct events (state does not carry over)."""
        source = """
def test_first(event_context):
    event_context.store("s").set("k", 1)

def test_second(event_context):
    assert event_context.store("s").get("k") is None
"""
        make(pytester, source, AFTER)
        run_inner(pytester).assert_outcomes(passed=3)

    def test_marker_is_registered(self, pytester: pytest.Pytester) -> None:
        """The event_context marker is registered (no failure under --strict-markers)."""
        make(
            pytester, inner("sync", "strict", "event_context", "pass", "@pytest.mark.event_context")
        )
        result = run_inner(pytester, "--strict-markers")
        result.assert_outcomes(passed=1)
        result = run_inner(pytester, "--markers")
        result.stdout.fnmatch_lines(["*event_context(type='TEST', **event_fields)*"])


class TestMakeEventContext:
    def test_returns_runners(self, pytester: pytest.Pytester) -> None:
        """make_event_context(event, options, **sections) returns a usable runner."""
        body = """
options = {"event_logger": {"name": "x"}}
runner = make_event_context({"type": "HTTP"}, options, job={"status": "pending"})
assert isinstance(runner, EventRunner)
with runner as ctx:
    assert use_event_context() is ctx
    assert ctx.options is options
    assert ctx.store("job").get("status") == "pending"
assert runner(lambda: use_event_context().type) == "HTTP"
assert try_get_current() is None
"""
        make(pytester, *all_kinds("make", "make_event_context", body))
        run_inner(pytester).assert_outcomes(passed=6)

    def test_left_entered_is_closed_not_a_leak(self, pytester: pytest.Pytester) -> None:
        """Runners it made that the test left entered are closed and not reported as leaks."""
        body = """
first = make_event_context({"type": "FIRST"})
second = make_event_context({"type": "SECOND"})
first.__enter__()
second.__enter__()
assert use_event_context().type == "SECOND"
"""
        make(pytester, *all_kinds("left", "make_event_context", body))
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=6)
        result.stdout.no_fnmatch_line("*left an event context active*")

    def test_left_entered_with_async_with(self, pytester: pytest.Pytester) -> None:
        """A runner entered with __aenter__ and left so in an asyncio test is not a leak."""
        body = """
runner = make_event_context({"type": "A"})
await runner.__aenter__()
assert use_event_context().type == "A"
"""
        make(pytester, inner("asyncio", "aenter", "make_event_context", body), AFTER)
        run_inner(pytester).assert_outcomes(passed=2)

    def test_nested_in_event_context(self, pytester: pytest.Pytester) -> None:
        """Runners made inside the event_context fixture's event have it as parent."""
        body = """
runner = make_event_context({"type": "CHILD"})
assert runner.context.parent is event_context
runner.__enter__()
"""
        make(pytester, inner("sync", "nested", "event_context, make_event_context", body), AFTER)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)

    def test_entered_in_other_order_than_made(self, pytester: pytest.Pytester) -> None:
        """Runners entered in another order than made are closed too, without a leak."""
        body = """
first = make_event_context({"type": "FIRST"})
second = make_event_context({"type": "SECOND"})
second.__enter__()
first.__enter__()
"""
        make(pytester, inner("sync", "order", "make_event_context", body), AFTER)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)


class TestJobContextFixture:
    def test_active_job_and_composables(self, pytester: pytest.Pytester) -> None:
        """job_context is an active JOB event where the job composables work."""
        body = """
assert job_context.type == "JOB"
assert job_context.event == {"job_id": "test-job", "input": {}, "type": "JOB"}
assert use_job_context() is job_context
get_status, set_status = use_job_status()
assert get_status() == "pending"
set_status("running")
use_job_metadata().set_metadata("attempt", 1)
assert job_context.store("job").value == {"status": "running", "metadata": {"attempt": 1}}
"""
        make(pytester, *all_kinds("job", "job_context", body))
        run_inner(pytester).assert_outcomes(passed=6)


class TestLeakCheck:
    def test_leak_fails_the_test(self, pytester: pytest.Pytester) -> None:
        """A test leaving a runner entered fails, naming it; the next test is clean."""
        tests = [
            inner(kind, "leak", "", f'create_event_context({{"type": "LEAKY_{kind}"}}).__enter__()')
            + AFTER.replace("zz_after", f"after_{kind}")
            for kind in KINDS
        ]
        make(pytester, *tests)
        result = run_inner(pytester, "-rf")
        result.assert_outcomes(passed=3, failed=3)
        for kind in KINDS:
            result.stdout.fnmatch_lines(
                [
                    f"*_ test_leak_{kind} _*",
                    f"*the test left an event context active: <EventContext type='LEAKY_{kind}'*",
                ]
            )

    def test_leak_in_subprocess(self, pytester: pytest.Pytester) -> None:
        """In a fresh process (entry-point plugin) a leak fails and the next test is clean."""
        body = 'create_event_context({"type": "LEAKY"}).__enter__()'
        make(pytester, inner("sync", "leak", "", body), inner("asyncio", "leak", "", body), AFTER)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1, failed=2)
        result.stdout.fnmatch_lines(["*left an event context active: <EventContext type='LEAKY'*"])

    def test_several_leaks_are_named(self, pytester: pytest.Pytester) -> None:
        """Every context left entered is named in the failure."""
        body = """
create_event_context({"type": "ONE"}).__enter__()
create_event_context({"type": "TWO"}).__enter__()
"""
        make(pytester, inner("sync", "two", "", body))
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*left an event context active*type='ONE'*"])
        result.stdout.fnmatch_lines(["*left an event context active*type='TWO'*"])

    def test_closed_contexts_pass(self, pytester: pytest.Pytester) -> None:
        """Tests that close what they enter pass without a leak report."""
        body = """
runner = create_event_context({"type": "OK"})
with runner:
    assert use_event_context().type == "OK"
assert runner(lambda: use_event_context().type) == "OK"
"""
        make(pytester, *all_kinds("clean", "", body))
        result = run_inner(pytester)
        result.assert_outcomes(passed=6)
        result.stdout.no_fnmatch_line("*left an event context active*")

    def test_leak_inside_event_context_fixture(self, pytester: pytest.Pytester) -> None:
        """A leak inside the event_context fixture fails that test only; the next is clean."""
        body = 'create_event_context({"type": "LEAKY"}).__enter__()'
        make(pytester, inner("sync", "leak", "event_context", body), AFTER)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1, failed=1)


class TestAnyioRunnerReuse:
    def test_event_context_with_module_async_fixture(self, pytester: pytest.Pytester) -> None:
        """event_context is seen by an anyio test while a module-scoped async fixture lives."""
        source = """
@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"

@pytest.fixture(scope="module")
async def resource():
    yield "r"

@pytest.mark.anyio
async def test_first(resource):
    assert try_get_current() is None

@pytest.mark.anyio
async def test_second(resource, event_context):
    assert use_event_context() is event_context
"""
        make(pytester, source)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)

    def test_documented_workaround(self, pytester: pytest.Pytester) -> None:
        """In such a module, an event activated inside the test with make_event_context works."""
        source = """
@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"

@pytest.fixture(scope="module")
async def resource():
    yield "r"

@pytest.mark.anyio
async def test_first(resource):
    assert try_get_current() is None

@pytest.mark.anyio
async def test_second(resource, make_event_context):
    with make_event_context({"type": "HTTP"}) as ctx:
        await asyncio.sleep(0)
        assert use_event_context() is ctx
    assert try_get_current() is None
"""
        make(pytester, source)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)


# -- the fixtures used directly by this file's tests -----------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    """anyio tests in this file run on asyncio."""
    return "asyncio"


class TestFixturesDirectly:
    def test_event_context(self, event_context: EventContext[Any, Any]) -> None:
        """The event_context fixture is the active "TEST" event."""
        assert event_context.type == "TEST"
        assert use_event_context() is event_context
        assert event_context.parent is None

    @pytest.mark.event_context(type="HTTP", method="GET", id="req-1")
    def test_event_context_marker(self, event_context: EventContext[Any, Any]) -> None:
        """The marker's fields are in the event, and composables use them."""
        assert event_context.event == {"type": "HTTP", "method": "GET", "id": "req-1"}
        assert use_event_id().get_id() == "req-1"

    @pytest.mark.asyncio
    async def test_event_context_asyncio(self, event_context: EventContext[Any, Any]) -> None:
        """The fixture's event is active in a pytest-asyncio test, across awaits."""
        await asyncio.sleep(0)
        assert use_event_context() is event_context

    @pytest.mark.anyio
    async def test_event_context_anyio(self, event_context: EventContext[Any, Any]) -> None:
        """The fixture's event is active in an anyio test."""
        await asyncio.sleep(0)
        assert use_event_context() is event_context

    def test_make_event_context(
        self, make_event_context: Callable[..., EventRunner[Any, Any]]
    ) -> None:
        """make_event_context returns runners; one left entered is closed at teardown."""
        runner = make_event_context({"type": "HTTP"}, None, route_params={"id": "7"})
        assert isinstance(runner, EventRunner)
        assert runner(lambda: use_event_context().get_store("route_params")) == {"id": "7"}
        runner.__enter__()  # left entered on purpose: the fixture closes it
        assert use_event_context() is runner.context

    @pytest.mark.asyncio
    async def test_make_event_context_asyncio(
        self, make_event_context: Callable[..., EventRunner[Any, Any]]
    ) -> None:
        """In an asyncio test, a made runner works with async with and async handlers."""
        runner = make_event_context({"type": "JOB"})

        async def handler() -> str:
            await asyncio.sleep(0)
            return use_event_context().type

        async with runner as ctx:
            assert use_event_context() is ctx
        assert await runner(handler) == "JOB"

    def test_job_context(self, job_context: EventContext[Any, Any]) -> None:
        """job_context is an active JOB event where the job composables work."""
        assert use_job_context() is job_context
        assert job_context.event["job_id"] == "test-job"
        get_status, set_status = use_job_status()
        assert get_status() == "pending"
        set_status("completed")
        assert job_context.store("job").get("status") == "completed"

    @pytest.mark.anyio
    async def test_job_context_anyio(self, job_context: EventContext[Any, Any]) -> None:
        """The job composables work in an anyio test using job_context."""
        await asyncio.sleep(0)
        use_job_metadata().set_metadata("k", "v")
        assert use_job_metadata().get_metadata("k") == "v"
        assert use_job_context() is job_context

    def test_no_context_without_fixture(self) -> None:
        """A test using none of the fixtures runs outside any event."""
        assert try_get_current() is None
