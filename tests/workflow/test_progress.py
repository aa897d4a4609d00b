"""The command line's progress display: counter, duration, time left."""

import io
import math

import pytest

from attnpool.workflow.progress import Progress, format_duration


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_prints_counter_duration_and_time_left():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(30, stream=stream, clock=clock)
    for seconds, desc in [(4.0, "attention seed 0"), (4.0, "attention seed 1"), (4.3, "attention seed 2")]:
        progress.start(desc)
        clock.now += seconds
        assert progress.done() == pytest.approx(seconds)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[1/30] attention seed 0 ..."
    assert lines[1] == "[1/30] attention seed 0 ... done in 4.0 s; about 1 min 56 s left"
    # mean 4.1 s x 27 left = 110.7 s
    assert lines[-1] == "[3/30] attention seed 2 ... done in 4.3 s; about 1 min 51 s left"


def test_progress_label_last_item_and_misuse():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(1, label="compare", stream=stream, clock=clock)
    with pytest.raises(RuntimeError, match="start"):
        progress.done()
    progress.start("mean seed 0")
    clock.now += 75
    progress.done("mean seed 0 (acc 0.61)")
    assert stream.getvalue().splitlines()[-1] == (
        "compare [1/1] mean seed 0 (acc 0.61) ... done in 1 min 15 s; all 1 done in 1 min 15 s"
    )
    with pytest.raises(ValueError, match="total"):
        Progress(0)


def test_format_duration():
    assert format_duration(4.14) == "4.1 s"
    assert format_duration(60) == "1 min"
    assert format_duration(100.4) == "1 min 40 s"
    assert format_duration(3600 * 2 + 300) == "2 h 5 min"
    assert format_duration(math.nan) == "? s"
