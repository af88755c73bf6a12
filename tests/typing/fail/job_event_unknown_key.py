"""Must fail: a key that JobEventData does not have.

Expected on the marked line ("jobid" is not a key of JobEventData):
mypy [typeddict-item], pyright [reportGeneralTypeIssues].
"""

from __future__ import annotations

from event_core.job import use_job_context


def handler() -> object:
    return use_job_context().event["jobid"]  # expect-error
