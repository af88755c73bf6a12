"""Typed slots used as users write them: every public return type is asserted.

Checked by mypy --strict and pyright --strict; ``main()`` also runs it (tests/test_typing.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Optional

from typing_extensions import assert_type

from event_core import (
    Cached,
    CachedBy,
    EventContext,
    EventKind,
    EventRunner,
    Key,
    Slot,
    Wook,
    cached,
    cached_by,
    create_event_context,
    current,
    define_wook,
    run,
    try_get_current,
)


class Http(EventKind, name="http"):
    method: Key[str]
    status: Key[int]


class Https(Http, name="https"):
    tls_version: Key[Optional[str]]


user_id: Key[int] = Key("user_id")
nickname = Key[Optional[str]]("nickname")


@cached
def greeting(ctx: EventContext) -> str:
    return "hello " + ctx.get(Http.method)


@cached
async def profile(ctx: EventContext) -> dict[str, int]:
    await asyncio.sleep(0)
    return {"id": ctx.get(user_id)}


@cached_by
def header(name: str, ctx: EventContext) -> Optional[str]:
    headers: dict[str, str] = ctx.event.get("headers", {})
    return headers.get(name)


@cached_by
def square(n: int, ctx: EventContext) -> int:
    return n * n


class Request:
    def __init__(self, method: str) -> None:
        self.method = method


@define_wook
def use_request(ctx: EventContext) -> Request:
    return Request(ctx.get(Http.method))


@define_wook
async def use_user_name(ctx: EventContext) -> str:
    await asyncio.sleep(0)
    return f"user-{ctx.get(user_id)}"


class LocalUser(EventContext[Any, Any]):
    """A context that keeps ``user_id`` to itself."""

    def _should_traverse_parent(self, key: Slot[Any]) -> bool:
        return key is not user_id


def slot_types() -> None:
    assert_type(Http.method, Key[str])
    assert_type(Https.method, Key[str])
    assert_type(Https.tls_version, Key[Optional[str]])
    assert_type(user_id, Key[int])
    assert_type(nickname, Key[Optional[str]])
    assert_type(user_id.name, str)
    assert_type(greeting, Cached[str])
    assert_type(profile, Cached[Awaitable[dict[str, int]]])
    assert_type(header, CachedBy[str, Optional[str]])
    assert_type(square, CachedBy[int, int])
    assert_type(use_request, Wook[Request])
    assert_type(use_user_name, Wook[Awaitable[str]])
    assert_type(Http.create_context(method="GET"), EventRunner[dict[str, Any], dict[str, Any]])
    assert_type(
        Https.create_context({}, tls_version=None), EventRunner[dict[str, Any], dict[str, Any]]
    )


def handler() -> None:
    ctx = current()
    assert_type(ctx, EventContext[Any, Any])
    assert_type(ctx.get(Http.method), str)
    assert_type(ctx.get(Http.status), int)
    assert_type(ctx.set(user_id, 7), int)
    assert_type(ctx.get(user_id), int)
    assert_type(ctx.has(user_id), bool)
    assert_type(ctx.get_own(user_id), int)
    assert_type(ctx.set_own(user_id, 8), int)
    assert_type(ctx.has_own(user_id), bool)
    assert_type(ctx.set(nickname, None), Optional[str])
    assert_type(ctx.get(nickname), Optional[str])
    assert_type(ctx.get(greeting), str)
    assert_type(ctx.get(profile), Awaitable[dict[str, int]])
    assert_type(header("accept"), Optional[str])
    assert_type(header("accept", ctx), Optional[str])
    assert_type(square(3), int)
    assert_type(square(3, ctx=ctx), int)
    assert_type(use_request(), Request)
    assert_type(use_request(ctx), Request)
    assert_type(use_request().method, str)
    assert_type(use_user_name(), Awaitable[str])
    assert_type(try_get_current(), Optional[EventContext[Any, Any]])
    assert_type(ctx.seed(Http, method="GET"), None)

    child = LocalUser({"type": "STEP"}, options=None, parent=ctx)
    assert_type(child, LocalUser)
    assert_type(child.get(Http.method), str)
    assert_type(child.has(user_id), bool)


async def async_handler() -> int:
    value = await current().get(profile)
    assert_type(value, dict[str, int])
    assert_type(await use_user_name(), str)
    assert_type(await use_user_name(current()), str)
    return value["id"]


def main() -> None:
    slot_types()
    runner = Http.create_context(method="GET", status=200)
    assert_type(runner(handler), None)
    ctx = runner.context
    assert_type(ctx, EventContext[dict[str, Any], dict[str, Any]])
    assert_type(run(ctx, lambda: current().get(Http.method)), str)
    assert_type(run(ctx, header, "accept"), Optional[str])
    assert_type(run(ctx, square, 4), int)
    assert_type(Http.create_context(method="PUT")(use_request), Request)
    assert_type(asyncio.run(runner(async_handler)), int)
    with create_event_context({"type": "HTTP"}) as other:
        other.seed(Https, method="GET", tls_version="1.3")
        assert_type(other.get(Https.tls_version), Optional[str])
