"""The progress display of long command-line loops (``attnpool compare``): one line per event, with time left."""

from __future__ import annotations

import math
import sys
import time


class Progress:
    """A one-line-per-event progress display for long loops, with a time-left estimate.

    ``start(desc)`` prints ``[3/30] attention seed 2 ...``; ``done()`` prints
    ``[3/30] attention seed 2 ... done in 4.1 s; about 1 min 40 s left``, the time left being the mean
    duration of the finished items times the items not yet finished. Whole lines (not ``\\r`` rewrites) so
    the display survives log files and interleaves with the trainer's own output.

    Args:
        total: number of items in the loop.
        label: optional prefix of every line, e.g. ``"compare"`` (default: none).
        stream: where to print (default: ``sys.stderr``, looked up at print time).
        clock: seconds as a float (default: ``time.monotonic``); tests pass a fake one.
    """

    def __init__(self, total: int, label: str = "", stream=None, clock=time.monotonic):
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ValueError(f"total must be a positive int, got {total!r}")
        self.total = total
        self.label = label
        self.stream = stream
        self.clock = clock
        self.finished = 0
        self.started = 0
        self.elapsed = 0.0
        self._desc = ""
        self._t0: float | None = None

    def start(self, desc: str) -> None:
        """Announce the next item (``desc`` e.g. ``"attention seed 2"``) and start its clock."""
        self.started += 1
        self._desc = desc
        self._t0 = self.clock()
        self._print(f"{self._prefix()} {desc} ...")

    def done(self, desc: str | None = None) -> float:
        """Finish the current item, print its duration and the time left; returns the duration in seconds."""
        if self._t0 is None:
            raise RuntimeError("Progress.done() called without a matching start()")
        seconds = self.clock() - self._t0
        self._t0 = None
        self.finished += 1
        self.elapsed += seconds
        left = self.total - self.finished
        if left > 0:
            tail = f"about {format_duration(self.elapsed / self.finished * left)} left"
        else:
            tail = f"all {self.total} done in {format_duration(self.elapsed)}"
        self._print(f"{self._prefix()} {desc or self._desc} ... done in {format_duration(seconds)}; {tail}")
        return seconds

    def _prefix(self) -> str:
        counter = f"[{self.started}/{self.total}]"
        return f"{self.label} {counter}" if self.label else counter

    def _print(self, line: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        print(line, file=stream, flush=True)


def format_duration(seconds: float) -> str:
    """``4.1 s``, ``1 min 40 s``, ``2 h 5 min``: seconds in words a person reads at a glance."""
    if not math.isfinite(seconds) or seconds < 0:
        return "? s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 3600:
        minutes, secs = divmod(whole, 60)
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, rest = divmod(whole, 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


__all__ = ["Progress", "format_duration"]
