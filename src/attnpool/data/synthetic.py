"""``synthetic:peaks``: the spec's scenario (7 nodes, 30 steps, a label decided by a short peak at a random step).

Every node of every sample is noise plus a few broad bumps of random sign (distractors) plus one short peak
(``peak_width`` steps) at its own random step. On exactly one node the peak points up; on all the others it
points down. The label is that node. Each node's series is then scaled by its own random gain and centred on
its own mean, so the series mean says nothing about the label (it is 0 everywhere) and no fixed threshold
tells peaks from distractors across nodes: mean pooling over time struggles, while attention can find each
node's most extreme short peak and read its sign. The true peak positions are kept in ``meta`` for
pointing-game evaluation (does a node's step of maximum attention fall on its peak?).
"""

from __future__ import annotations

import numpy as np

from .dataset import DataError, TimeSeriesSet

DEFAULTS = dict(samples=1200, steps=30, peak_width=2, amplitude=(2.2, 3.2), distractors=2,
                distractor_amplitude=(0.5, 1.5), distractor_width=(1.5, 3.0), noise=0.3, gain=(0.5, 2.0))


def read_synthetic(source: str, *, task, nodes, seed, fracs=None, window=None, horizon=None, **options) -> TimeSeriesSet:
    """Generate ``synthetic:peaks`` (the only generator so far) as a raw :class:`TimeSeriesSet`.

    Args:
        source: ``"synthetic:peaks"``.
        task: None or ``"classify"``.
        nodes: number of nodes N (default: 7).
        seed: the generator's seed; the same seed gives the same data.
        **options: ``samples`` (default: 1200), ``steps`` T (default: 30), ``peak_width`` (default: 2),
            ``amplitude`` peak height range (default: (2.2, 3.2)), ``distractors`` broad bumps per node
            (default: 2), ``distractor_amplitude`` (default: (0.5, 1.5)), ``distractor_width`` Gaussian sigma
            in steps (default: (1.5, 3.0)), ``noise`` std (default: 0.3), ``gain`` range of each node's
            random scale factor, log-uniform (default: (0.5, 2.0); ``(1, 1)`` turns it off).

    Returns:
        x ``[S, N, T, 1]``, y int64 ``[S]`` (the node whose peak points up), and meta ``peak_start`` int64
        ``[S, N]`` (first step of each node's peak), ``peak_width`` int, ``peak_sign`` int8 ``[S, N]``,
        ``label_node`` int64 ``[S]`` (the node carrying the label-deciding peak).
    """
    kind = source.split(":", 1)[1].strip().lower()
    if kind != "peaks":
        raise DataError(f"{source}: unknown synthetic set {kind!r}; known: peaks")
    if task not in (None, "classify"):
        raise DataError(f"{source}: synthetic:peaks is a classify task, got task {task!r}")
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise DataError(f"{source}: unknown option(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    opt = {**DEFAULTS, **options}
    n_nodes = 7 if nodes is None else nodes
    S, T, width = opt["samples"], opt["steps"], opt["peak_width"]
    for name, value, low in (("nodes", n_nodes, 2), ("samples", S, 1), ("steps", T, 2), ("peak_width", width, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise DataError(f"{source}: {name} must be an int >= {low}, got {value!r}")
    if width > T:
        raise DataError(f"{source}: peak_width must be <= steps ({T}), got {width}")

    rng = np.random.default_rng(seed)
    N = int(n_nodes)
    steps = np.arange(T, dtype=np.float64)
    x = opt["noise"] * rng.standard_normal((S, N, T))

    # Distractors: broad Gaussian bumps of random sign and height, anywhere in the window.
    k = int(opt["distractors"])
    if k > 0:
        centre = rng.uniform(0, T, size=(S, N, k, 1))
        sigma = rng.uniform(*opt["distractor_width"], size=(S, N, k, 1))
        height = rng.uniform(*opt["distractor_amplitude"], size=(S, N, k, 1)) * rng.choice([-1.0, 1.0], (S, N, k, 1))
        x += (height * np.exp(-0.5 * ((steps - centre) / sigma) ** 2)).sum(axis=2)

    # One short peak per node; it points up only on the label node.
    label = rng.integers(0, N, size=S)
    start = rng.integers(0, T - width + 1, size=(S, N))
    sign = np.where(np.arange(N)[None, :] == label[:, None], 1, -1).astype(np.int8)
    height = rng.uniform(*opt["amplitude"], size=(S, N)) * sign
    on_peak = (steps[None, None, :] >= start[..., None]) & (steps[None, None, :] < start[..., None] + width)
    x += on_peak * height[..., None]

    # Each node's series is scaled by its own random gain (log-uniform) and centred on its own mean: no fixed
    # threshold separates peaks from distractors across nodes, and the series mean is exactly 0.
    low, high = opt["gain"]
    if not 0 < low <= high:
        raise DataError(f"{source}: gain must be (low, high) with 0 < low <= high, got {opt['gain']!r}")
    x *= np.exp(rng.uniform(np.log(low), np.log(high), size=(S, N, 1)))
    x -= x.mean(axis=-1, keepdims=True)

    node_names = [f"node{n}" for n in range(N)]
    return TimeSeriesSet(
        x=x[..., None].astype(np.float32),
        y=label.astype(np.int64),
        task="classify",
        node_names=node_names,
        feature_names=["value"],
        class_names=[f"peak up on {name}" for name in node_names],
        meta={
            "source": source,
            "peak_start": start.astype(np.int64),
            "peak_width": int(width),
            "peak_sign": sign,
            "label_node": label.astype(np.int64),
        },
    )
