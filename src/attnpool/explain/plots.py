"""Figures: one sample's signals with its attention heatmap, and the pooling comparison bar chart.

matplotlib is imported inside the functions, so ``import attnpool.explain`` needs numpy only. The figures are
built on ``matplotlib.figure.Figure`` with the Agg canvas rather than through ``pyplot``: nothing global (the
user's backend, pyplot's figure list) is touched, and no figure is left open after a long explain loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .arrays import to_numpy

# Above this many nodes the per-node signal rows get thinner and lose their y tick labels.
_COMPACT_NODES = 6


def plot_sample(
    path,
    x,
    weights,
    *,
    mask=None,
    node_names,
    feature_names=None,
    title: str,
    step_labels=None,
    dpi: int = 110,
) -> Path:
    """Draw one sample: each node's input signal over time, and beneath it the nodes x time attention heatmap.

    The top rows hold one small plot per node (all F features as lines, a dashed line at the step of largest
    attention); the bottom panel is the heatmap of ``weights`` with a colorbar, nodes on the y axis. Masked
    steps are blank in the signal rows and grey in the heatmap. All panels share the time axis.

    Args:
        path: PNG file to write (parent folders are created).
        x: ``[N, T, F]`` input of one sample (``[N, T]`` is read as F = 1).
        weights: ``[N, T]`` attention weights of that sample.
        mask: optional bool ``[N, T]``, True = valid step.
        node_names: ``N`` node names, shown on the y axes.
        feature_names: optional ``F`` feature names for the legend (default: no legend when F = 1,
            ``feature 0 ..`` otherwise).
        title: figure title, e.g. ``"sample 17: true walking, predicted walking"``.
        step_labels: optional ``T`` labels for the time axis (e.g. timestamps); default the step index.
        dpi: resolution of the PNG (default: 110).

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure

    x = np.asarray(to_numpy(x), dtype=np.float64)
    if x.ndim == 2:
        x = x[..., None]  # [N, T] -> [N, T, 1]
    if x.ndim != 3:
        raise ValueError(f"x must be [N, T, F] for one sample, got shape {x.shape}")
    n_nodes, n_steps, n_feat = x.shape
    w = np.asarray(to_numpy(weights), dtype=np.float64)
    if w.shape != (n_nodes, n_steps):
        raise ValueError(f"weights must be [N, T] = {[n_nodes, n_steps]} to match x, got shape {w.shape}")
    if mask is None:
        valid = np.ones((n_nodes, n_steps), dtype=bool)
    else:
        valid = np.asarray(to_numpy(mask))
        if valid.dtype != np.bool_ or valid.shape != (n_nodes, n_steps):
            raise ValueError(f"mask must be bool [N, T] = {[n_nodes, n_steps]}, got {valid.dtype} {valid.shape}")
    node_names = [str(name) for name in node_names]
    if len(node_names) != n_nodes:
        raise ValueError(f"node_names must have N = {n_nodes} entries, got {len(node_names)}")
    if feature_names is not None:
        feature_names = [str(name) for name in feature_names]
        if len(feature_names) != n_feat:
            raise ValueError(f"feature_names must have F = {n_feat} entries, got {len(feature_names)}")
    elif n_feat > 1:
        feature_names = [f"feature {f}" for f in range(n_feat)]
    if step_labels is not None and len(step_labels) != n_steps:
        raise ValueError(f"step_labels must have T = {n_steps} entries, got {len(step_labels)}")

    compact = n_nodes > _COMPACT_NODES
    row_height = 0.95 if not compact else max(0.38, 4.8 / n_nodes)
    heat_height = min(max(1.4, 0.26 * n_nodes + 0.8), 6.5)
    legend_height = 0.35 * int(np.ceil(n_feat / 7)) if feature_names else 0.0
    gap = 0.3 if compact else 0.01  # room for the heatmap's title under the last (thin) signal row
    fig_height = 0.9 + legend_height + row_height * n_nodes + gap + heat_height + 0.7
    fig = Figure(figsize=(11, fig_height), dpi=dpi)
    top = 1 - (0.75 + legend_height) / fig_height
    # Rows: N signal rows, a spacer, the heatmap; the narrow right column holds the colorbar.
    grid = fig.add_gridspec(
        n_nodes + 2,
        2,
        height_ratios=[row_height] * n_nodes + [gap, heat_height],
        width_ratios=[1, 0.018],
        hspace=0.12 if compact else 0.3,
        wspace=0.02,
        # Room for the longest node name beside its row, plus the tick labels (inches / figure width).
        left=min(0.35, max(0.13, (0.6 + 0.085 * max((len(str(n)) for n in node_names), default=0)) / 11)),
        right=0.93,
        top=top,
        bottom=0.6 / fig_height,
    )
    steps = np.arange(n_steps)
    colors = [f"C{f % 10}" for f in range(n_feat)]
    w_valid = np.where(valid, w, 0.0)
    argmax = np.where(w_valid.max(axis=1) > 0, w_valid.argmax(axis=1), -1)
    heat_ax = fig.add_subplot(grid[n_nodes + 1, 0])
    lines = []
    first_row = None
    for n in range(n_nodes):
        ax = fig.add_subplot(grid[n, 0], sharex=heat_ax)
        signal = np.where(valid[n][:, None], x[n], np.nan)  # masked steps break the line
        for f in range(n_feat):
            (line,) = ax.plot(steps, signal[:, f], color=colors[f], linewidth=0.9)
            if n == 0:
                lines.append(line)
        for start, stop in _runs(~valid[n]):
            ax.axvspan(start - 0.5, stop - 0.5, color="0.88", linewidth=0)
        if argmax[n] >= 0:
            ax.axvline(argmax[n], color="black", linestyle="--", linewidth=0.8, alpha=0.7)
        ax.set_ylabel(node_names[n], rotation=0, ha="right", va="center", fontsize=8 if compact else 9)
        ax.tick_params(labelbottom=False, labelsize=7)
        if compact:
            ax.set_yticks([])
        ax.margins(x=0)
        first_row = first_row or ax
    if first_row is not None:
        first_row.set_title("input signal per node (dashed: step of largest attention)", fontsize=9, loc="left")

    shown = np.ma.masked_array(w, mask=~valid)
    cmap = _grey_bad_cmap()
    image = heat_ax.imshow(
        shown,
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        vmin=0.0,
        vmax=max(float(w_valid.max()), 1e-12),
        extent=(-0.5, n_steps - 0.5, n_nodes - 0.5, -0.5),
    )
    heat_ax.set_yticks(range(n_nodes))
    heat_ax.set_yticklabels(node_names, fontsize=8 if compact else 9)
    heat_ax.set_ylabel("node")
    heat_ax.set_xlabel("time step")
    heat_ax.set_title("attention weight per node and step (grey: masked)", fontsize=9, loc="left")
    heat_ax.set_xlim(-0.5, n_steps - 0.5)
    if step_labels is not None:
        ticks = np.unique(np.linspace(0, n_steps - 1, min(n_steps, 8)).round().astype(int))
        heat_ax.set_xticks(ticks)
        heat_ax.set_xticklabels([str(step_labels[t]) for t in ticks], fontsize=8)
    colorbar = fig.colorbar(image, cax=fig.add_subplot(grid[n_nodes + 1, 1]))
    colorbar.set_label("weight", fontsize=9)
    colorbar.ax.tick_params(labelsize=7)

    fig.suptitle(title, fontsize=11, y=1 - 0.25 / fig_height, va="top")
    if feature_names:
        fig.legend(
            lines,
            feature_names,
            loc="upper center",
            bbox_to_anchor=(0.53, 1 - 0.6 / fig_height),
            ncol=min(n_feat, 7),
            fontsize=8,
            frameon=False,
        )
    return _save(fig, path)


def plot_compare(path, table_rows, metric: str, *, title: str | None = None, dpi: int = 110) -> Path:
    """Bar chart of one metric per pooling, mean with an error bar of +- one standard deviation over seeds.

    Args:
        path: PNG file to write (parent folders are created).
        table_rows: rows of :func:`attnpool.explain.compare.summarize_runs`, each with ``pool``, ``n`` and
            ``{metric}_mean`` / ``{metric}_std``.
        metric: the metric to draw, e.g. ``"accuracy"`` or ``"mae"``.
        title: optional title (default: ``"{metric}: mean ± std over seeds"``).
        dpi: resolution of the PNG (default: 110).

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure

    rows = [row for row in table_rows if row.get(f"{metric}_mean") is not None]
    if not rows:
        have = sorted({key[: -len("_mean")] for row in table_rows for key in row if key.endswith("_mean")})
        raise ValueError(f"no row has metric {metric!r}; metrics present: {have}")
    names = [str(row["pool"]) for row in rows]
    means = np.array([float(row[f"{metric}_mean"]) for row in rows])
    stds = np.array([float(row.get(f"{metric}_std") or 0.0) for row in rows])
    seeds = sorted({int(row.get("n", 0)) for row in rows})

    fig = Figure(figsize=(max(4.5, 1.1 * len(rows) + 2), 4.2), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    positions = np.arange(len(rows))
    bars = ax.bar(positions, means, yerr=stds, capsize=4, color=[f"C{i % 10}" for i in positions], alpha=0.85)
    for bar, mean, std in zip(bars, means, stds):
        ax.annotate(
            f"{mean:.3g}",
            (bar.get_x() + bar.get_width() / 2, mean + std),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(positions)
    ax.set_xticklabels(names, rotation=20 if len(rows) > 5 else 0)
    ax.set_xlabel("pooling")
    ax.set_ylabel(metric)
    seed_text = "/".join(str(n) for n in seeds)
    ax.set_title(title or f"{metric}: mean ± std over {seed_text} seed(s)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.margins(y=0.12)
    fig.tight_layout()
    return _save(fig, path)


# ----------------------------------------------------------------------------------------------- helpers


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _grey_bad_cmap():
    from matplotlib import colormaps

    return colormaps["viridis"].with_extremes(bad="0.82")


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


__all__ = ["plot_compare", "plot_sample"]
