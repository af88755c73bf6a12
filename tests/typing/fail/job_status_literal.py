"""Must fail: a job status outside the JobStatusValue literal.

Expected on the marked line ("done" is not a JobStatusValue):
mypy [arg-type], pyright [reportArgumentType].
"""

from __future__ import annotations

from event_core.job import use_job_status


def handler() -> None:
    _, set_status = use_job_status()
    set_status("done")  # expect-error
