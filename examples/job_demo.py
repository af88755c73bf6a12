"""Many JOB events at once, on one asyncio loop: every job sees only its own state.

The handler, ``process_job``, takes no arguments (like the seed document's ``processJob``).
Every function below it, several calls deep and across ``await`` points and a worker
thread, finds "its" job through the composables of ``event_core.job`` and the built-in
``use_event_id`` / ``use_event_logger``. One job in 10 has a bad order line and fails on
purpose, deep inside the pricing code.

When all jobs are done, the demo checks each job's final state against its own input
(result, status, metadata, log records, event id) and prints a short summary. It exits
with status 1 if any job saw another job's state.

Usage::

    python examples/job_demo.py [COUNT] [--fail-every N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from event_core import (
    EventContext,
    EventOptions,
    run,
    try_get_current,
    use_event_id,
    use_event_logger,
)
from event_core.job import (
    run_job,
    use_job_context,
    use_job_metadata,
    use_job_result,
    use_job_status,
)

LOGGER_NAME = "job_demo"
OPTIONS: EventOptions = {"event_logger": {"name": LOGGER_NAME}}

Line = tuple[str, int, int]  # (sku, quantity, unit price in cents)
Order = dict[str, Any]  # {"index": int, "customer": str, "lines": [Line, ...]}


# -- the job's code: nothing below receives the job, every function asks the context --------


def current_order() -> Order:
    """The input of the job being processed, whatever the call depth."""
    order: Order = use_job_context().event["input"]
    return order


async def process_job() -> dict[str, Any]:
    """The handler of every job: price the order, checksum it, return a receipt."""
    use_event_logger().info("%s: job started", current_order()["customer"])
    use_job_metadata().set_metadata("lines", len(current_order()["lines"]))
    total = await price_order()
    # Sync code in a worker thread: asyncio.to_thread carries the event context along.
    checksum = await asyncio.to_thread(record_checksum)
    use_event_logger().info("%s: job priced", current_order()["customer"])
    return {
        "job_id": use_job_context().event["job_id"],
        "event_id": use_event_id().get_id(),
        "total": total,
        "checksum": checksum,
        "status_seen": use_job_status().get_status(),
    }


async def price_order() -> int:
    total = 0
    for n in range(len(current_order()["lines"])):
        total += await price_line(n)
        # A partial result while the job runs; run_job replaces it with the return value.
        use_job_result().set_result({"priced_lines": n + 1, "subtotal": total})
    return total


async def price_line(n: int) -> int:
    # Sleep a little, differently per job and line, so the jobs interleave.
    await asyncio.sleep(jitter(n))
    line: Line = current_order()["lines"][n]
    sku, quantity, unit = line
    validate_quantity(sku, quantity)
    use_event_logger("pricing").info(
        "%s: line %d: %d x %s", current_order()["customer"], n, quantity, sku
    )
    return quantity * unit


def jitter(n: int) -> float:
    index: int = current_order()["index"]
    return ((index * 31 + n * 17) % 5) / 1000


def validate_quantity(sku: str, quantity: int) -> None:
    if quantity <= 0:
        job_id = use_job_context().event["job_id"]
        raise ValueError(f"{job_id}: quantity of {sku} must be positive, got {quantity}")


def record_checksum() -> str:
    value = checksum_of(current_order())
    use_job_metadata().set_metadata("checksum", value)
    return value


def checksum_of(order: Order) -> str:
    return f"{zlib.crc32(repr(order['lines']).encode()):08x}"


# -- the driver: make the jobs, run them all at once, check what each one saw ---------------


@dataclass
class Job:
    """One job as the driver made it, and what it must end up with."""

    job_id: str
    order: Order
    should_fail: bool
    expected_total: int
    expected_checksum: str
    expected_records: int
    expected_partial: dict[str, int]  # the result a failing job leaves behind


@dataclass
class Summary:
    """What the demo found; ``mismatches == 0`` means no job saw another job's state."""

    count: int
    statuses: dict[str, int]
    checks: list[tuple[str, int, int]]  # (what, passed, out of)
    distinct_event_ids: int
    max_in_flight: int
    elapsed: float
    problems: list[str] = field(default_factory=list[str])

    @property
    def mismatches(self) -> int:
        return len(self.problems)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and sum(self.statuses.values()) == self.count


def make_jobs(count: int, fail_every: int) -> list[Job]:
    jobs: list[Job] = []
    for i in range(count):
        lines: list[Line] = [
            (f"sku-{(i * 7 + n) % 97:02d}", 1 + (i + n) % 4, 100 + (i * 13 + n * 29) % 900)
            for n in range(3 + i % 4)
        ]
        should_fail = fail_every > 0 and i % fail_every == fail_every - 1
        if should_fail:
            sku, _, unit = lines[-1]
            lines[-1] = (sku, -1, unit)  # the bad line: validate_quantity() raises on it
        order: Order = {"index": i, "customer": f"customer-{i:04d}", "lines": lines}
        jobs.append(
            Job(
                job_id=f"job-{i:04d}",
                order=order,
                should_fail=should_fail,
                expected_total=sum(q * u for _, q, u in lines),
                expected_checksum=checksum_of(order),
                # started + one per line + priced; a failing job stops at its last line
                expected_records=len(lines) if should_fail else len(lines) + 2,
                expected_partial={
                    "priced_lines": len(lines) - 1,
                    "subtotal": sum(q * u for _, q, u in lines[:-1]),
                },
            )
        )
    return jobs


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def run_all(
    jobs: Sequence[Job],
) -> tuple[list[Any], dict[str, list[EventContext[Any, Any]]], int]:
    """Run every job concurrently; return outcomes, the contexts the jobs ran in, max in flight."""
    contexts: dict[str, list[EventContext[Any, Any]]] = {}
    in_flight = max_in_flight = 0

    async def handler() -> dict[str, Any]:
        nonlocal in_flight, max_in_flight
        ctx = use_job_context()
        contexts.setdefault(ctx.event["job_id"], []).append(ctx)
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        try:
            return await process_job()
        finally:
            in_flight -= 1

    outcomes = await asyncio.gather(
        *(run_job({"job_id": job.job_id, "input": job.order}, handler, OPTIONS) for job in jobs),
        return_exceptions=True,
    )
    return list(outcomes), contexts, max_in_flight


def check(
    jobs: Sequence[Job],
    outcomes: Sequence[Any],
    contexts: dict[str, list[EventContext[Any, Any]]],
    records: Sequence[logging.LogRecord],
) -> tuple[dict[str, int], list[tuple[str, int, int]], int, list[str]]:
    problems: list[str] = []
    statuses: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    evaluated: Counter[str] = Counter()
    event_ids: dict[str, str] = {}  # event id -> job id
    by_customer = {job.order["customer"]: job for job in jobs}

    def expect(what: str, ok: bool, job: Job, detail: str) -> None:
        evaluated[what] += 1
        if ok:
            passed[what] += 1
        else:
            problems.append(f"{job.job_id}: {what}: {detail}")

    for job, outcome in zip(jobs, outcomes):
        seen = contexts.get(job.job_id, [])
        ok_ctx = len(seen) == 1 and seen[0].event["input"] is job.order
        expect("ran in one context holding its own input", ok_ctx, job, f"{len(seen)} contexts")
        if not seen:
            continue
        ctx = seen[0]
        state = ctx.store("job").value or {}
        metadata = state.get("metadata", {})
        status = state.get("status", "?")
        statuses[status] += 1
        # Re-activate the finished event to ask it for its id, as any code inside it would.
        event_id = run(ctx, lambda: use_event_id().get_id())
        event_ids[event_id] = job.job_id
        timing_ok = metadata.get("started_at", 1) <= metadata.get("finished_at", 0) and (
            metadata.get("duration_ms", -1) >= 0
        )
        if job.should_fail:
            error = str(metadata.get("error", ""))
            expect(
                "failed where expected, with its own error",
                status == "failed"
                and isinstance(outcome, ValueError)
                and error.startswith(f"ValueError: {job.job_id}: quantity"),
                job,
                f"status={status!r} outcome={outcome!r} error={error!r}",
            )
            partial = state.get("result")
            expect(
                "partial result matches its own input",
                partial == job.expected_partial,
                job,
                f"{partial} != {job.expected_partial}",
            )
            expect("metadata (checksum, timing)", timing_ok, job, repr(metadata))
            continue
        expect(
            "completed where expected",
            status == "completed" and not isinstance(outcome, BaseException),
            job,
            f"status={status!r} outcome={outcome!r}",
        )
        if isinstance(outcome, BaseException):
            continue
        own = {
            "job_id": job.job_id,
            "event_id": event_id,
            "total": job.expected_total,
            "checksum": job.expected_checksum,
            "status_seen": "running",
        }
        expect("result matches its own input", outcome == own, job, f"{outcome} != {own}")
        expect("stored result is the returned one", state.get("result") is outcome, job, "differs")
        expect(
            "metadata (checksum, timing)",
            metadata.get("checksum") == job.expected_checksum
            and metadata.get("lines") == len(job.order["lines"])
            and timing_ok,
            job,
            repr(metadata),
        )

    # Each log record carries the event id of the job that logged it (from the logger
    # adapter) and the customer that job's code read from the context: they must agree.
    per_event: Counter[str] = Counter()
    for record in records:
        owner = event_ids.get(getattr(record, "event_id", None) or "")
        customer = record.args[0] if isinstance(record.args, tuple) and record.args else None
        logged_by = by_customer.get(str(customer))
        if logged_by is not None and owner is not None:
            expect(
                "log records carry their own event",
                owner == logged_by.job_id,
                logged_by,
                f"{record.getMessage()!r} logged in the event of {owner}",
            )
            per_event[owner] += 1
        else:
            problems.append(f"log record {record.getMessage()!r}: unknown event or customer")
    for job in jobs:
        if per_event[job.job_id] != job.expected_records:
            problems.append(
                f"{job.job_id}: {per_event[job.job_id]} log records, "
                f"expected {job.expected_records}"
            )
    if try_get_current() is not None:
        problems.append(f"an event context is still active: {try_get_current()!r}")

    checks = [(what, passed[what], out_of) for what, out_of in evaluated.items()]
    return dict(statuses), checks, len(event_ids), problems


def run_demo(count: int = 200, fail_every: int = 10) -> Summary:
    """Run ``count`` jobs concurrently and check that each one saw only its own state."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    jobs = make_jobs(count, fail_every)
    logger = logging.getLogger(LOGGER_NAME)
    capture = _Capture()
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        started = time.perf_counter()
        outcomes, contexts, max_in_flight = asyncio.run(run_all(jobs))
        elapsed = time.perf_counter() - started
    finally:
        logger.removeHandler(capture)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate
    statuses, checks, distinct, problems = check(jobs, outcomes, contexts, capture.records)
    if distinct != count:
        problems.append(f"{distinct} distinct event ids for {count} jobs")
    return Summary(count, statuses, checks, distinct, max_in_flight, elapsed, problems)


def format_summary(summary: Summary, fail_every: int) -> str:
    every = f"1 job in {fail_every} fails on purpose" if fail_every > 0 else "none fails"
    out = [
        f"event-core JOB demo: {summary.count} jobs at once on one asyncio loop ({every})",
        "",
        f"  {'status':<12}{'jobs':>6}",
    ]
    for status in ("completed", "failed", "running", "pending"):
        if summary.statuses.get(status):
            out.append(f"  {status:<12}{summary.statuses[status]:>6}")
    out.append(f"  {'total':<12}{sum(summary.statuses.values()):>6}")
    out += ["", f"  {'check':<44}{'ok':>6}{'of':>6}"]
    out += [f"  {what:<44}{ok:>6}{of:>6}" for what, ok, of in summary.checks]
    out.append(f"  {'distinct event ids':<44}{summary.distinct_event_ids:>6}{summary.count:>6}")
    out += [
        "",
        f"  most jobs in flight at once: {summary.max_in_flight}",
        f"  mismatches: {summary.mismatches}",
        f"  elapsed: {summary.elapsed:.3f} s wall time",
    ]
    for problem in summary.problems[:10]:
        out.append(f"  MISMATCH {problem}")
    if summary.mismatches > 10:
        out.append(f"  ... and {summary.mismatches - 10} more")
    out.append("OK: every job saw only its own state" if summary.ok else "FAILED: cross-talk")
    return "\n".join(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="job_demo.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("count", nargs="?", type=int, default=200, help="jobs (default 200)")
    parser.add_argument(
        "--fail-every", type=int, default=10, help="every Nth job fails (0: none; default 10)"
    )
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("COUNT must be at least 1")
    summary = run_demo(args.count, args.fail_every)
    print(format_summary(summary, args.fail_every))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
