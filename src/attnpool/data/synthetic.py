"""``synthetic:peaks``: the spec's scenario (7 nodes, 30 steps, a label decided by a short peak at a random step).

Every node of every sample is noise plus several short spikes of the same width at separate random steps,
of random sign. Exactly one node also carries the **peak**: a short upward spike clearly taller than that
node's other spikes (which are ``distractor_ratio`` of its height). The label is that node. Each node's
series is scaled by its own random gain and shifted by its own random level, so no fixed threshold tells the
peak from a tall distractor on another node, the series level says nothing, and the spikes all look alike
locally: only "is one spike of this node far taller than its others" decides. Mean pooling over time
averages the peak with the distractors; attention can pick the peak out. The true peak positions are kept
in ``meta`` for the pointing game (does the peaked node's step of maximum attention fall on its peak?).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .dataset import TimeSeriesSet

DEFAULTS = dict(samples=1200, steps=30, peak_width=2, amplitude=(2.2, 3.2), distractors=6,
                distractor_ratio=(0.3, 0.6), noise=0.2, gain=(0.5, 2.0), level=2.0)


def read_synthetic(source: str, *, task, nodes, seed, fracs=None, window=None, horizon=None, **options) -> TimeSeriesSet:
    """Generate ``synthetic:peaks`` (the only generator so far) as a raw :class:`TimeSeriesSet`.

    Args:
        source: ``"synthetic:peaks"``.
        task: None or ``"classify"``.
        nodes: number of nodes N (default: 7).
        seed: the generator's seed; the same seed gives the same data.
        **options: ``samples`` (default: 1200), ``steps`` T (default: 30), ``peak_width`` (default: 2),
            ``amplitude`` peak height range (default: (2.2, 3.2)), ``distractors`` smaller spikes of the same
            width per node (default: 6; nodes without the peak get one more), ``distractor_ratio`` their
            height as a fraction of the peak height drawn for the node (default: (0.3, 0.6)), ``noise`` std
            (default: 0.2), ``gain`` range of each node's random scale factor, log-uniform (default: (0.5, 2.0);
            ``(1, 1)`` turns it off), ``level`` each node's random offset, uniform in ``[-level, level]`` (default: 2.0).

    Returns:
        x ``[S, N, T, 1]``, y int64 ``[S]`` (the node with the peak), and meta ``peak_start`` int64 ``[S, N]``
        (first step of the peak on the label node, -1 on the nodes without one), ``peak_width`` int,
        ``label_node`` int64 ``[S]`` (the node carrying the label-deciding peak; equals y).
    """
    kind = source.split(":", 1)[1].strip().lower()
    if kind != "peaks":
        raise DataError(f"{source}: unknown synthetic set {kind!r}; known: peaks")
    if task not in (None, "classify"):
        raise DataError(f"{source}: synthetic:peaks is a classify task, got task {task!r}")
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise DataError(f"{source}: unknown option(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    opt = {**DEFAULTS, **{k: _option(source, k, v) for k, v in options.items()}}
    n_nodes = 7 if nodes is None else nodes
    S, T, width = opt["samples"], opt["steps"], opt["peak_width"]
    for name, value, low in (("nodes", n_nodes, 2), ("samples", S, 1), ("steps", T, 2), ("peak_width", width, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise DataError(f"{source}: {name} must be an int >= {low}, got {value!r}")
    if width > T:
        raise DataError(f"{source}: peak_width must be <= steps ({T}), got {width}")
    if S * n_nodes * T > 20_000_000:  # the generator holds a few arrays of S x N x T x (spikes): gigabytes beyond
        raise DataError(f"{source}: samples x nodes x steps must be <= 2e7, got {S} x {n_nodes} x {T}")

    k = opt["distractors"]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise DataError(f"{source}: distractors must be an int >= 0, got {k!r}")
    if (k + 1) * width + k > T:
        raise DataError(f"{source}: {k} distractors and a peak of width {width} do not fit in {T} steps")
    low, high = opt["gain"]
    if not 0 < low <= high:
        raise DataError(f"{source}: gain must be (low, high) with 0 < low <= high, got {opt['gain']!r}")
    for name in ("amplitude", "distractor_ratio"):
        a, b = opt[name]
        if not 0 <= a <= b:
            raise DataError(f"{source}: {name} must be (low, high) with 0 <= low <= high, got {opt[name]!r}")

    rng = np.random.default_rng(seed)
    N, k = int(n_nodes), int(k)
    # k + 1 spikes at random steps, at least one step apart: choose k + 1 sorted positions among
    # T - (k + 1) * width + 1 and spread them by the spike width (start_i = c_i + i * width).
    free = T - (k + 1) * width + 1
    chosen = np.sort(np.argsort(rng.random((S, N, free)), axis=-1)[..., : k + 1], axis=-1)
    starts = chosen + np.arange(k + 1) * width  # [S, N, k+1], increasing
    # Which of the spikes is the peak: a random one; swap it to index 0.
    which = rng.integers(0, k + 1, size=(S, N, 1))
    first = np.take_along_axis(starts, which, axis=-1)
    np.put_along_axis(starts, which, starts[..., :1], axis=-1)
    starts[..., :1] = first
    start = starts[..., 0]

    # Heights: the peak is the tallest spike of its node; distractors are a fraction of it, random sign.
    label = rng.integers(0, N, size=S)
    has_peak = np.arange(N)[None, :] == label[:, None]  # [S, N]
    peak = rng.uniform(*opt["amplitude"], size=(S, N))
    ratio = rng.uniform(*opt["distractor_ratio"], size=(S, N, k + 1))
    # Spike 0 is the peak (full height, upward) on the label node, and one more distractor elsewhere.
    height = peak[..., None] * ratio * rng.choice([-1.0, 1.0], size=(S, N, k + 1))
    height[..., 0] = np.where(has_peak, peak, height[..., 0])

    steps = np.arange(T)
    on = (steps >= starts[..., None]) & (steps < starts[..., None] + width)  # [S, N, k+1, T]
    x = opt["noise"] * rng.standard_normal((S, N, T)) + (on * height[..., None]).sum(axis=2)
    # Each node's series is scaled by its own random gain (log-uniform) and shifted by its own random level:
    # no fixed threshold tells the peak from a distractor across nodes, and the level says nothing about the
    # label. (Centring each series on its mean would leak the label: the upward peak lowers every other step
    # of its node, and a model could read the label off the flat stretches without looking at the peak.)
    x *= np.exp(rng.uniform(np.log(low), np.log(high), size=(S, N, 1)))
    x += rng.uniform(-opt["level"], opt["level"], size=(S, N, 1))

    node_names = [f"node{n}" for n in range(N)]
    return TimeSeriesSet(
        x=x[..., None].astype(np.float32),
        y=label.astype(np.int64),
        task="classify",
        node_names=node_names,
        feature_names=["value"],
        class_names=[f"peak on {name}" for name in node_names],
        meta={
            "source": source,
            "peak_start": np.where(has_peak, start, -1).astype(np.int64),
            "peak_width": int(width),
            "label_node": label.astype(np.int64),
        },
    )


# Which kind each option takes: ints, numbers >= 0, or (low, high) ranges (a pair, or "low,high" from the command
# line's --data-option). Checked here so that `level=abc` says so instead of failing inside numpy.
_NUMBERS = ("noise", "level")
_RANGES = ("amplitude", "distractor_ratio", "gain")
_LIMIT = 1e6  # generated values beyond this would only test float32's range, not the model


def _option(source: str, key: str, value):
    if key in _NUMBERS:
        return _number(source, key, value)
    if key in _RANGES:
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, (list, tuple)) or len(parts) != 2:
            raise DataError(f"{source}: option {key} must be a range 'low,high' of two numbers, got {value!r}")
        return tuple(_number(source, key, p, text=value) for p in parts)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DataError(f"{source}: option {key} must be an int, got {value!r} ({type(value).__name__})")
    return value


def _number(source: str, key: str, value, text=None):
    shown = value if text is None else text
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise DataError(f"{source}: option {key} must be a number, got {shown!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DataError(f"{source}: option {key} must be a number, got {shown!r} ({type(value).__name__})")
    if not (0 <= value <= _LIMIT):
        raise DataError(f"{source}: option {key} must be a number in [0, {_LIMIT:g}], got {shown!r}")
    return float(value)
