"""The worker's garbage-collector policy (bff/kernel/serving.py); serving itself is exercised by
`serve --workers 2` in tests/test_cli.py."""

from __future__ import annotations

import gc

from bff.kernel.serving import GC_THRESHOLDS, settle_garbage_collector


def test_a_started_worker_collects_rarely_and_never_walks_what_startup_made():
    thresholds = gc.get_threshold()
    made_at_startup = [{"schema": object()} for _ in range(1000)]
    try:
        settle_garbage_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() >= len(made_at_startup)
        assert GC_THRESHOLDS[0] >= 50 * thresholds[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
