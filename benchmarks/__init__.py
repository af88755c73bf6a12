"""Benchmarks of event-core against a bare ``ContextVar`` and the peer libraries.

``workloads`` defines every implementation of the JOB workload and checks it; ``run`` times
them side by side in one process (``make bench``). A package, so that the smoke test can
import the very code that ``make bench`` runs.
"""
