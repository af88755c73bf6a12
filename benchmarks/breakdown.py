"""Where a seed-API event's time goes: the seed workload built up one step at a time.

Each step runs ``create_job_context(data)(handler)`` per event, like the seed workload, with
a handler that does a little more than the previous step's; the last step is the seed
workload itself. The difference between two steps is what the added part costs per event,
measured in place (a fresh event each time, so the first-use costs are counted), not
estimated from primitives timed in isolation.

Only the last two steps do the whole workload: ``"direct"`` (every store operation called on
the section, no composables) and ``"seed"``. ``check()`` runs ``"direct"`` through the same
correctness check as the workloads; ``"seed"`` is checked there already.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

from event_core.job import create_job_context, use_job_context

from .workloads import (
    EXPECTED_OUT,
    JOB_DATA,
    META_KEY,
    META_VALUE,
    RESULT,
    SyncWorkload,
    check_sync,
    run_seed,
)
from .workloads import SYNC as _SYNC

__all__ = ["STEPS", "Step", "check"]

Out = tuple[str, int]


def _pending() -> str:
    return "pending"


def _empty_metadata() -> dict[str, Any]:
    return {}


def _event_only() -> Out:
    return EXPECTED_OUT


def _find_event() -> Out:
    use_job_context()
    return EXPECTED_OUT


def _first_store() -> Out:
    use_job_context().store("job")
    return EXPECTED_OUT


def _first_write() -> Out:
    use_job_context().store("job").init("status", _pending)
    return EXPECTED_OUT


def _direct() -> Out:
    # The seed handler's reads and writes, each called on the section itself: what is left
    # of the seed API without its composables (three lookups, nine store operations).
    job = use_job_context().store("job")
    job.init("status", _pending)
    job.set("status", "running")
    status: str = job.init("status", _pending)
    job = use_job_context().store("job")
    job.set("result", RESULT)
    job.set("status", "completed")
    job = use_job_context().store("job")
    job.init("metadata", _empty_metadata)[META_KEY] = META_VALUE
    return status, job.init("metadata", _empty_metadata).get(META_KEY)


def run_events(loops: int, handler: Callable[[], Out] = _direct) -> Out:
    """``loops`` events of ``create_job_context(data)(handler)``; the last handler result."""
    out = EXPECTED_OUT
    for _ in range(loops):
        out = create_job_context(JOB_DATA)(handler)  # type: ignore[arg-type]
    return out


class Step(NamedTuple):
    """One step: ``run(loops)`` runs that many events; ``adds`` says what the step adds."""

    key: str
    adds: str
    run: Callable[[int], object]


STEPS: list[Step] = [
    Step(
        "event",
        "create_job_context(data)(handler), the handler empty",
        partial(run_events, handler=_event_only),
    ),
    Step("find", "+ use_job_context()", partial(run_events, handler=_find_event)),
    Step(
        "section",
        "+ .store('job'), the event's first: its StoreSection",
        partial(run_events, handler=_first_store),
    ),
    Step(
        "write",
        "+ the section's first write: its dict",
        partial(run_events, handler=_first_write),
    ),
    Step("direct", "+ the rest of the workload, called on the section", run_events),
    Step("seed", "+ the seed's composables: closures in named tuples", run_seed),
]


def check() -> None:
    """Check the ``"direct"`` step as the workloads are checked (it does the whole workload)."""
    seed = next(w for w in _SYNC if w.name == "seed")
    check_sync(
        SyncWorkload(
            "breakdown/direct",
            "store operations called on the section",
            "breakdown",
            run_events,
            _direct,
            seed.state,
            seed.active,
        )
    )
