"""Time the JOB workload side by side in one process: ``make bench``.

Usage::

    python benchmarks/run.py            # the full run (about a minute): tables, targets, JSON
    python benchmarks/run.py --quick    # a fast look: few repeats, short samples
    python benchmarks/run.py --smoke    # correctness checks and one iteration of everything
    python benchmarks/run.py --memory   # tracemalloc over 1,000,000 events per event-core API
    python benchmarks/run.py --profile  # cProfile of the event-core workloads, per event
    python benchmarks/run.py --only breakdown  # where a seed-API event's time goes

Why an in-process harness rather than pyperf's worker processes: the question is how
event-core compares with a bare ``ContextVar`` and with its peers, so every implementation
is timed in the same process, interpreter state and machine conditions. Each is calibrated
(loops per sample grow until a sample lasts ``--min-time``), warmed up, then sampled
``--repeats`` times, round-robin: one sample of each implementation per round, the order
rotated every round, so that machine noise (other processes, frequency changes) falls on
all of them alike; samples of the same round can then be paired. The tables show the
median (the figure the targets use) and the minimum. Each sample runs in a fresh, empty
``contextvars.Context``. Garbage collection stays on for the workloads, as in production
(an implementation that allocates more pays for more collections), and runs before every
sample so that no sample pays for another's garbage; the primitives are timed with
``timeit`` (collection off).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import datetime
import gc
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from time import perf_counter
from typing import Any, NamedTuple, Optional

if not __package__:  # run as a script (`python benchmarks/run.py`): find the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import breakdown
from benchmarks import workloads as wl

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_JSON = RESULTS / "latest.json"

#: What a run times (``--only`` picks some): the workloads, the seed breakdown, the primitives.
GROUPS = ("sync", "async", "breakdown", "primitives")

# Targets of issue 4 (ratios of medians to the floor's, sync workload).
SEED_LIMIT = 3.0
TYPED_LIMIT = 2.0
ASYNC_LIMIT = 2.0  # event-core's added cost over the floor, in floor overheads
MEMORY_LIMIT = 64 * 1024  # bytes of growth tolerated over the whole --memory run


class Settings(NamedTuple):
    """How long and how often to sample."""

    repeats: int  # rounds for the sync workload and the primitives
    async_repeats: int  # rounds for the asyncio workload (noisier: more rounds)
    min_time: float  # seconds per sample, reached by calibrating the loops
    warmups: int
    tasks: int  # concurrent tasks (events) per asyncio sample


FULL = Settings(repeats=21, async_repeats=41, min_time=0.02, warmups=2, tasks=1000)
QUICK = Settings(repeats=5, async_repeats=9, min_time=0.005, warmups=1, tasks=1000)
SMOKE = Settings(repeats=1, async_repeats=1, min_time=0.0, warmups=0, tasks=100)


class Item(NamedTuple):
    """One thing to time: ``timer(loops)`` returns seconds for ``loops * ops`` operations."""

    key: str
    label: str
    timer: Callable[[int], float]
    ops: int = 1
    inside: Optional[AbstractContextManager[Any]] = None  # held around each sample


class Stats(NamedTuple):
    """The samples of one item, in nanoseconds per operation."""

    key: str
    label: str
    loops: int
    samples: list[float]
    median: float
    min: float
    iqr: float  # interquartile range, relative to the median

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "loops": self.loops,
            "median_ns": self.median,
            "min_ns": self.min,
            "iqr_rel": self.iqr,
            "samples_ns": self.samples,
        }


def _stats(item: Item, loops: int, samples: list[float]) -> Stats:
    median = statistics.median(samples)
    if len(samples) >= 2:
        q1, _q2, q3 = statistics.quantiles(samples, n=4)
        iqr = (q3 - q1) / median if median else 0.0
    else:
        iqr = 0.0
    return Stats(item.key, item.label, loops, samples, median, min(samples), iqr)


# -- the harness -------------------------------------------------------------------------------


def _sample(item: Item, loops: int) -> float:
    # A fresh, empty contextvars.Context per sample: the cost of ContextVar.set grows with
    # the number of variables set in the Context (about 2x past 8 on CPython 3.11), so no
    # implementation may pay for the variables another one left set (werkzeug's Local,
    # structlog's keys, ...). Every implementation is timed as the only library in use.
    gc.collect()
    return contextvars.Context().run(_timed, item, loops)


def _timed(item: Item, loops: int) -> float:
    with item.inside if item.inside is not None else nullcontext():
        return item.timer(loops)


def calibrate(item: Item, min_time: float) -> int:
    """The number of loops for which one sample of ``item`` lasts at least ``min_time``."""
    loops = 1
    while True:
        elapsed = _sample(item, loops)
        if elapsed >= min_time or loops >= 1 << 30:
            return loops
        if elapsed <= 0:
            loops *= 10
        else:  # aim 20% above the target, growing at least 2x and at most 10x per try
            loops = max(loops * 2, min(loops * 10, int(loops * 1.2 * min_time / elapsed) + 1))


def measure(items: Sequence[Item], settings: Settings, repeats: int) -> dict[str, Stats]:
    """Calibrate, warm up and sample ``items`` in ``repeats`` rounds; their stats by key.

    ``samples[r]`` of every item comes from round ``r``, so samples can be paired by round.
    """
    loops = {item.key: calibrate(item, settings.min_time) for item in items}
    for _ in range(settings.warmups):
        for item in items:
            _sample(item, loops[item.key])
    samples: dict[str, list[float]] = {item.key: [] for item in items}
    for round_ in range(repeats):
        shift = round_ % len(items)
        for item in [*items[shift:], *items[:shift]]:
            n = loops[item.key]
            samples[item.key].append(_sample(item, n) / (n * item.ops) * 1e9)
    return {item.key: _stats(item, loops[item.key], samples[item.key]) for item in items}


def _sync_timer(run: Callable[[int], object]) -> Callable[[int], float]:
    def timer(loops: int) -> float:
        start = perf_counter()
        run(loops)
        return perf_counter() - start

    return timer


def _async_timer(
    workload: wl.AsyncWorkload, loop: asyncio.AbstractEventLoop, tasks: int
) -> Callable[[int], float]:
    def timer(loops: int) -> float:
        start = perf_counter()
        for _ in range(loops):
            loop.run_until_complete(wl.gather_events(workload, tasks))
        return perf_counter() - start

    return timer


def sync_items() -> list[Item]:
    return [Item(w.name, w.label, _sync_timer(w.run)) for w in wl.SYNC]


def async_items(loop: asyncio.AbstractEventLoop, tasks: int) -> list[Item]:
    return [Item(w.name, w.label, _async_timer(w, loop, tasks), tasks) for w in wl.ASYNC]


def breakdown_items() -> list[Item]:
    return [Item(step.key, step.adds, _sync_timer(step.run)) for step in breakdown.STEPS]


def primitive_items() -> list[Item]:
    namespace, runner = wl.primitive_env()
    return [
        Item(
            p.name,
            p.name,
            timeit.Timer(p.stmt, globals=namespace).timeit,
            inside=runner if p.inside else None,
        )
        for p in wl.PRIMITIVES
    ]


# -- reports -----------------------------------------------------------------------------------


class Target(NamedTuple):
    """One target of the issue, measured."""

    name: str
    value: float
    limit: float
    passed: bool
    detail: str

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"  {verdict}  {self.name}: {self.detail}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(headers), rule, *(fmt(r) for r in rows)])


def _paired(a: Stats, b: Stats, op: Callable[[float, float], float]) -> float:
    """The median over rounds of ``op(a's sample, b's sample)`` from the same round.

    Load that lasts a round (another process, a frequency change) hits both samples of a
    pair, so paired figures are steadier than figures computed from separate medians.
    """
    return statistics.median(op(x, y) for x, y in zip(a.samples, b.samples))


def _ratio(x: float, y: float) -> float:
    return x / y


def _difference(x: float, y: float) -> float:
    return x - y


def sync_report(stats: dict[str, Stats]) -> tuple[str, list[Target]]:
    """The sync table (ratios to the floor) and the sync targets (ratios of medians)."""
    floor = stats["floor"]
    rows = [
        [
            s.label,
            f"{s.median:,.0f}",
            f"{s.min:,.0f}",
            f"{s.iqr * 100:.1f}%",
            f"{s.median / floor.median:.2f}x",
            f"{_paired(s, floor, _ratio):.2f}x",
        ]
        for s in stats.values()
    ]
    table = _table(["implementation", "median ns", "min ns", "IQR", "x floor", "paired"], rows)
    targets: list[Target] = []
    peers = [s for s in stats.values() if s.key not in ("floor", "shape", "seed", "typed")]
    for key, limit in (("seed", SEED_LIMIT), ("typed", TYPED_LIMIT)):
        if key not in stats:
            continue
        ours = stats[key]
        ratio = ours.median / floor.median
        targets.append(
            Target(
                f"sync {key}: <= {limit:.1f}x the floor",
                ratio,
                limit,
                ratio <= limit,
                f"{ratio:.2f}x ({ours.median:,.0f} ns vs {floor.median:,.0f} ns; "
                f"paired {_paired(ours, floor, _ratio):.2f}x)",
            )
        )
        if peers:
            fastest = min(peers, key=lambda s: s.median)
            targets.append(
                Target(
                    f"sync {key}: faster than every peer",
                    ours.median / fastest.median,
                    1.0,
                    ours.median < fastest.median,
                    f"{ours.median:,.0f} ns vs {fastest.median:,.0f} ns for the fastest "
                    f"peer, {fastest.label} ({ours.median / fastest.median:.2f}x)",
                )
            )
    return table, targets


def async_report(stats: dict[str, Stats]) -> tuple[str, list[Target]]:
    """The async table (overheads over no context) and the async targets.

    Overheads are paired differences (see :func:`_paired`): the signal (a few hundred ns
    of context work) is small against the cost of a task and its awaits, and the machine's
    noise must not decide the result.
    """
    base, floor = stats["baseline"], stats["floor"]
    floor_over = _paired(floor, base, _difference)
    rows = []
    for s in stats.values():
        over = _paired(s, base, _difference)
        rows.append(
            [
                s.label,
                f"{s.median:,.0f}",
                f"{s.min:,.0f}",
                f"{s.iqr * 100:.1f}%",
                "" if s is base else f"{over:+,.0f}",
                "" if s is base or floor_over <= 0 else f"{over / floor_over:.2f}x",
            ]
        )
    table = _table(
        ["implementation", "median ns", "min ns", "IQR", "over baseline", "x floor's overhead"],
        rows,
    )
    targets: list[Target] = []
    for key in ("seed", "typed"):
        if key not in stats:
            continue
        added = _paired(stats[key], floor, _difference)
        measurable = floor_over > 0
        ratio = added / floor_over if measurable else float("inf")
        targets.append(
            Target(
                f"async {key}: adds <= {ASYNC_LIMIT:.0f}x the floor's overhead",
                ratio,
                ASYNC_LIMIT,
                ratio <= ASYNC_LIMIT,
                f"adds {added:+,.0f} ns/event to the floor, whose own overhead over no "
                f"context is {floor_over:+,.0f} ns: {ratio:.2f}x"
                if measurable
                else f"the floor's overhead over no context ({floor_over:+,.0f} ns) is lost "
                "in the noise: rerun on a quieter machine or with more --async-repeats",
            )
        )
    return table, targets


def breakdown_report(stats: dict[str, Stats]) -> str:
    """Each step's median, what it adds to the step before (paired), its share of the seed's."""
    steps = list(stats.values())
    seed = steps[-1]
    rows = []
    for before, step in zip([None, *steps], steps):
        added = step.median if before is None else _paired(step, before, _difference)
        rows.append(
            [step.label, f"{step.median:,.0f}", f"{added:+,.0f}", f"{added / seed.median:.0%}"]
        )
    return _table(["step (each adds to the one above)", "median ns", "adds ns", "of seed"], rows)


def primitives_report(stats: dict[str, Stats]) -> str:
    empty = next(iter(stats.values())).median  # the empty loop comes first
    dict_net = stats[wl.PRIMITIVES[1].name].median - empty
    groups = {p.name: p.group for p in wl.PRIMITIVES}
    rows = []
    for s in stats.values():
        net = s.median - empty
        rows.append(
            [
                s.label,
                groups[s.key],
                f"{s.median:,.1f}",
                "" if s is stats[wl.PRIMITIVES[0].name] else f"{net:,.1f}",
                f"{net / dict_net:.1f}x" if dict_net > 0 and s.median != empty else "",
            ]
        )
    return _table(["operation", "kind", "median ns", "net ns", "x d.get"], rows)


# -- modes -------------------------------------------------------------------------------------


def _meta(settings: Settings, argv: Sequence[str]) -> dict[str, Any]:
    from importlib import metadata

    versions = {}
    for dist in ("event-core", "flask", "werkzeug", "opentelemetry-api", "structlog"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "src_modified": bool(_git("status", "--porcelain", "--", "src")),
        "command": " ".join(["benchmarks/run.py", *argv]),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "settings": settings._asdict(),
        "versions": versions,
        "unavailable": dict(wl.UNAVAILABLE),
    }


def _git(*args: str) -> str:
    """The output of a git command in the checkout, or "" (not a checkout, no git)."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=RESULTS.parent.parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def run_checks(loop: asyncio.AbstractEventLoop) -> dict[str, Optional[str]]:
    """Every workload's check: ``None`` when it passes, else the error."""
    errors: dict[str, Optional[str]] = {}
    for sync in wl.SYNC:
        errors[f"sync/{sync.name}"] = _error_of(lambda w=sync: wl.check_sync(w))
    for async_ in wl.ASYNC:
        errors[f"async/{async_.name}"] = _error_of(lambda w=async_: wl.check_async(w, loop))
    errors["breakdown/direct"] = _error_of(breakdown.check)
    return errors


def _error_of(fn: Callable[[], None]) -> Optional[str]:
    try:
        fn()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def bench(
    settings: Settings, groups: Sequence[str], argv: Sequence[str], smoke: bool = False
) -> dict[str, Any]:
    """Check, then time the selected groups; print the tables and targets; the results."""
    loop = asyncio.new_event_loop()
    try:
        errors = run_checks(loop)
        lines = [
            f"check {key}: {'ok' if err is None else 'FAILED: ' + err}"
            for key, err in errors.items()
        ]
        lines += [f"check sync/{name}: skipped, {why}" for name, why in wl.UNAVAILABLE.items()]
        print("\n".join(sorted(lines, key=lambda line: not line.startswith("check sync/"))))
        if any(errors.values()):
            return {"checks": errors, "targets": []}
        if smoke:
            print("smoke: one iteration of everything; the timings below mean nothing")
        results: dict[str, Any] = {"meta": _meta(settings, argv), "checks": errors}
        targets: list[Target] = []
        reps, tasks = settings.repeats, settings.tasks
        timed = {
            "sync": (
                sync_items,
                reps,
                f"Sync JOB workload: ns per event over {reps} rounds; x floor: ratio of "
                "medians; paired: median of the per-round ratios",
                sync_report,
            ),
            "async": (
                lambda: async_items(loop, tasks),
                settings.async_repeats,
                f"Async JOB workload: {tasks} concurrent tasks with 5 awaits each; ns per event "
                f"over {settings.async_repeats} rounds; overheads paired per round",
                async_report,
            ),
            "breakdown": (
                breakdown_items,
                reps,
                f"Where a seed-API event's time goes: ns per event over {reps} rounds, the "
                "seed workload built up step by step",
                lambda stats: (breakdown_report(stats), []),
            ),
            "primitives": (
                primitive_items,
                reps,
                f"Primitives: ns per operation over {reps} rounds (median); net: minus the "
                "empty loop",
                lambda stats: (primitives_report(stats), []),
            ),
        }
        for group in GROUPS:
            if group in groups:
                items, repeats, title, report = timed[group]
                stats = measure(items(), settings, repeats)
                table, found = report(stats)
                print(f"\n{title}\n{table}")
                results[group] = {k: s.as_json() for k, s in stats.items()}
                targets += found
        if targets:
            print("\nTargets (issue 4)")
            for target in targets:
                print(target.line())
            print("  ----  memory: run `python benchmarks/run.py --memory`")
        results["targets"] = [t._asdict() for t in targets]
        return results
    finally:
        loop.close()


def smoke() -> dict[str, Optional[str]]:
    """The smoke pass (``--smoke``): every check, then one iteration of every item.

    Returns each check's error (``None`` when it passed); raises if the harness itself fails.
    """
    results = bench(SMOKE, GROUPS, ["--smoke"], smoke=True)
    return results["checks"]  # type: ignore[no-any-return]


def measure_memory(events: int, checkpoints: int = 10) -> tuple[dict[str, Any], list[Target]]:
    """Traced memory growth over ``events`` events of each event-core API (tracemalloc)."""
    report: dict[str, Any] = {"events": events}
    targets = []
    step = max(1, events // checkpoints)
    for workload in wl.SYNC:
        if workload.group != "event-core":
            continue
        workload.run(1000)  # fill the caches (type caches, interned strings, free lists)
        gc.collect()
        tracemalloc.start()
        try:
            workload.run(1000)
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
            growth = []
            done = 0
            while done < events:
                n = min(step, events - done)
                workload.run(n)
                done += n
                gc.collect()
                growth.append(tracemalloc.get_traced_memory()[0] - base)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        final = growth[-1]
        report[workload.name] = {"growth_bytes": growth, "peak_bytes": peak}
        print(
            f"{workload.label}: {events:,} events, traced memory growth {final:+,} B "
            f"({final / events:+.4f} B/event), peak {peak:+,} B; "
            f"at each tenth: {', '.join(f'{g:+,}' for g in growth)}"
        )
        targets.append(
            Target(
                f"memory {workload.name}: no growth over {events:,} events",
                float(final),
                float(MEMORY_LIMIT),
                final <= MEMORY_LIMIT,
                f"{final:+,} B after {events:,} events (tolerance {MEMORY_LIMIT:,} B)",
            )
        )
    return report, targets


def profile(events: int, top: int) -> None:
    """cProfile each event-core workload; per event: calls, own time, cumulative time.

    cProfile's own overhead inflates every figure (several times for small functions); the
    call counts are exact and the proportions show where the time goes.
    """
    for workload in wl.SYNC:
        if workload.group != "event-core":
            continue
        workload.run(1000)
        profiler = cProfile.Profile()
        profiler.enable()
        workload.run(events)
        profiler.disable()
        raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        rows = []
        total = sum(entry[2] for entry in raw.values())
        for (path, line, func), (_cc, calls, own, cum, _callers) in sorted(
            raw.items(), key=lambda kv: kv[1][2], reverse=True
        )[:top]:
            where = f"{Path(path).name}:{line}" if line else "~"
            rows.append(
                [
                    f"{func} ({where})",
                    f"{calls / events:.2f}",
                    f"{own / events * 1e9:,.0f}",
                    f"{cum / events * 1e9:,.0f}",
                    f"{own / total * 100:.1f}%",
                ]
            )
        print(f"\n{workload.label}: cProfile over {events:,} events, sorted by own time")
        print(_table(["function", "calls/event", "own ns", "cum ns", "own %"], rows))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="few repeats, short samples")
    mode.add_argument("--smoke", action="store_true", help="checks and one iteration of each")
    mode.add_argument(
        "--memory",
        nargs="?",
        const=1_000_000,
        type=int,
        metavar="N",
        help="tracemalloc growth over N events per event-core API (default 1,000,000)",
    )
    mode.add_argument(
        "--profile",
        nargs="?",
        const=100_000,
        type=int,
        metavar="N",
        help="cProfile N events per event-core API (default 100,000)",
    )
    parser.add_argument("--repeats", type=int, help="rounds of samples (default 21; quick 5)")
    parser.add_argument(
        "--async-repeats", type=int, help="rounds of async samples (default 41; quick 9)"
    )
    parser.add_argument("--min-time", type=float, help="seconds per sample (default 0.02)")
    parser.add_argument("--tasks", type=int, help="concurrent tasks per async sample (1000)")
    parser.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        help="time only this group (repeatable)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument("--top", type=int, default=25, help="rows per --profile table")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)

    if args.smoke:
        errors = smoke()
        return 1 if any(errors.values()) else 0
    if args.profile is not None:
        profile(args.profile, args.top)
        return 0
    if args.memory is not None:
        report, targets = measure_memory(args.memory)
        for target in targets:
            print(target.line())
        _write(args.json.with_name("memory.json"), {"memory": report})
        return 1 if args.strict and not all(t.passed for t in targets) else 0

    settings = QUICK if args.quick else FULL
    settings = settings._replace(
        **{
            k: v
            for k, v in (
                ("repeats", args.repeats),
                ("async_repeats", args.async_repeats),
                ("min_time", args.min_time),
                ("tasks", args.tasks),
            )
            if v is not None
        }
    )
    results = bench(settings, args.only or GROUPS, argv)
    if any(results["checks"].values()):
        return 1
    _write(args.json, results)
    failed = [t for t in results["targets"] if not t["passed"]]
    return 1 if args.strict and failed else 0


def _write(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    sys.exit(main())
