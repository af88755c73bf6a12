"""The JOB adapter used as the seed document uses it: every public return type is asserted.

Checked by mypy --strict and pyright --strict; ``main()`` also runs it (tests/test_typing.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Callable, Optional

from typing_extensions import assert_type

from event_core import EventContext, EventRunner
from event_core.job import (
    JobContextStore,
    JobEventData,
    JobMetadata,
    JobResult,
    JobStatus,
    JobStatusValue,
    MetadataValue,
    create_job_context,
    run_job,
    use_job_context,
    use_job_metadata,
    use_job_result,
    use_job_status,
)


def process() -> int:
    ctx = use_job_context()
    assert_type(ctx, EventContext[JobContextStore, JobEventData])
    assert_type(ctx.event, JobEventData)
    assert_type(ctx.event["job_id"], str)
    assert_type(ctx.event["input"]["foo"], Any)
    assert_type(ctx.get_ctx(), JobContextStore)

    status = use_job_status()
    assert_type(status, JobStatus)
    get_status, set_status = use_job_status()
    assert_type(get_status, Callable[[], JobStatusValue])
    assert_type(set_status, Callable[[JobStatusValue], JobStatusValue])
    assert_type(get_status(), JobStatusValue)
    assert_type(set_status("running"), JobStatusValue)
    assert_type(status.get_status(), JobStatusValue)
    # the "job" section is NotRequired: it exists once a composable wrote to it
    job_state = ctx.get_ctx().get("job")
    assert job_state is not None
    assert_type(job_state.get("status"), Optional[JobStatusValue])

    result = use_job_result()
    assert_type(result, JobResult)
    get_result, set_result = result
    assert_type(get_result, Callable[[], Any])
    assert_type(set_result, Callable[[Any], Any])

    metadata = use_job_metadata()
    assert_type(metadata, JobMetadata)
    get_metadata, set_metadata = metadata
    assert_type(get_metadata, Callable[[str], Optional[MetadataValue]])
    assert_type(set_metadata, Callable[[str, MetadataValue], MetadataValue])
    assert_type(set_metadata("attempt", 1), MetadataValue)
    assert_type(get_metadata("attempt"), Optional[MetadataValue])
    return 42


async def process_async(scale: int) -> int:
    return scale * 2


def main() -> None:
    data: JobEventData = {"job_id": "abc123", "input": {"foo": "bar"}}
    runner = create_job_context(data)
    assert_type(runner, EventRunner[JobContextStore, JobEventData])
    assert_type(runner(process), int)
    pending = runner(process_async, 3)
    assert_type(asyncio.run(assert_type(pending, Coroutine[Any, Any, int])), int)
    with runner as ctx:
        assert_type(ctx, EventContext[JobContextStore, JobEventData])
    assert_type(runner.context, EventContext[JobContextStore, JobEventData])
    assert_type(run_job(data, process), int)
    pending_job = run_job(data, lambda: process_async(1))
    assert_type(asyncio.run(assert_type(pending_job, Coroutine[Any, Any, int])), int)
    assert_type(asyncio.run(jobs_async()), None)


async def jobs_async() -> None:
    runner = create_job_context({"job_id": "j2", "input": {}})
    assert_type(await runner(process_async, 2), int)
    async with runner as ctx:
        assert_type(ctx.event["job_id"], str)
