"""The seed (0.6) API and the built-in composables: every public return type is asserted.

Checked by mypy --strict and pyright --strict; ``main()`` also runs it (tests/test_typing.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from typing_extensions import assert_type

from event_core import (
    EventContext,
    EventIdComposable,
    EventLogger,
    EventOptions,
    EventRunner,
    RouteParams,
    StoreHook,
    StoreSection,
    bind,
    create_event_context,
    current,
    snapshot,
    try_get_current,
    use_event_context,
    use_event_id,
    use_event_logger,
    use_route_params,
)


def describe(prefix: str, *, upper: bool = False) -> str:
    text = f"{prefix}:{use_event_context().type}"
    return text.upper() if upper else text


async def describe_async(prefix: str) -> str:
    return prefix + use_event_id().get_id()


def in_event() -> None:
    ctx = use_event_context()
    assert_type(ctx, EventContext[Any, Any])
    assert_type(use_event_context("HTTP"), EventContext[Any, Any])
    assert_type(use_event_context(["HTTP", "CLI"]), EventContext[Any, Any])
    assert_type(current(), EventContext[Any, Any])
    assert_type(try_get_current(), Optional[EventContext[Any, Any]])
    assert_type(ctx.type, str)
    assert_type(ctx.options, EventOptions)
    assert_type(ctx.parent, Optional[EventContext[Any, Any]])
    assert_type(ctx.has_parent_ctx(), bool)
    assert_type(ctx.get_parent_ctx(), EventContext[Any, Any])
    assert_type(ctx.set_parent_ctx(ctx.get_parent_ctx()), None)
    assert_type(ctx.get_store("route_params"), Any)
    assert_type(ctx.set_store("route_params", {}), None)

    section = ctx.store("user")
    assert_type(section, StoreSection)
    assert_type(section.value, Optional[dict[str, Any]])
    assert_type(section.init("name", lambda: "ada"), str)
    assert_type(section.set("age", 36), int)
    assert_type(section.get("name"), Any)
    assert_type(section.has("name"), bool)
    assert_type(section.delete("age"), None)
    assert_type(section.entries(), list[tuple[str, Any]])
    assert_type(section.clear(), None)
    assert_type(section.hook("name"), StoreHook[Any])
    assert_type(section.hook("name").is_defined, bool)

    assert_type(use_event_id(), EventIdComposable)
    assert_type(use_event_id().get_id(), str)
    assert_type(use_event_logger(), EventLogger)
    assert_type(use_event_logger("db"), EventLogger)
    assert_type(use_route_params(), RouteParams)
    assert_type(use_route_params().params, dict[str, Any])
    assert_type(use_route_params().get("id"), Any)

    bound = bind(describe)
    assert_type(bound("x", upper=True), str)
    with ThreadPoolExecutor(1) as pool:
        assert_type(pool.submit(bind(describe), "x").result(), str)
    again = snapshot()
    assert_type(again, EventRunner[dict[str, Any], dict[str, Any]])
    assert_type(again(describe, "x"), str)


def main() -> None:
    parent = create_event_context({"type": "HTTP"})
    runner = parent(create_event_context, {"type": "CLI", "argv": ["ls"]}, {"event_logger": {}})
    assert_type(runner, EventRunner[dict[str, Any], dict[str, Any]])
    assert_type(runner(in_event), None)
    assert_type(runner(describe, "p"), str)
    assert_type(runner(describe, "p", upper=True), str)
    pending = runner(describe_async, "p")
    assert_type(asyncio.run(assert_type(pending, Coroutine[Any, Any, str])), str)
    assert_type(runner(lambda: 1), int)
    with runner as ctx:
        assert_type(ctx, EventContext[dict[str, Any], dict[str, Any]])
        assert_type(ctx.event, dict[str, Any])
        assert_type(ctx.get_ctx(), dict[str, Any])
    assert_type(
        create_event_context({"type": "JOB"}, None, job={}),
        EventRunner[dict[str, Any], dict[str, Any]],
    )
