"""UEA/UCR sets through aeon (``uea:<Name>``), with channels grouped into nodes.

aeon is imported here only, so ``import attnpool`` stays light. Sets that aeon 1.6.0 ships inside its
package load offline (see :data:`OFFLINE`); any other name aeon knows is downloaded by aeon itself into
``extract_path`` (needs network). Variable-length sets are padded at the end with ``mask`` False, never
truncated.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .dataset import TimeSeriesSet

# Classification sets bundled with aeon 1.6.0 (aeon/datasets/data); Covid3Month and CardanoSentiment are its
# bundled regression sets.
OFFLINE = (
    "ACSF1", "ArrowHead", "BasicMotions", "Covid3Month_disc", "GunPoint", "ItalyPowerDemand",
    "JapaneseVowels", "OSULeaf", "PickupGestureWiimoteZ", "UnitTest",
)
OFFLINE_REGRESSION = ("CardanoSentiment", "Covid3Month")

# Channel names where the set's description gives them; other sets get ch0, ch1, ...
CHANNELS = {
    "BasicMotions": (["accelerometer", "gyroscope"], ["x", "y", "z"]),
}


def read_uea(source: str, *, task, nodes, fracs, seed, window=None, horizon=None, extract_path=None, **options) -> TimeSeriesSet:
    """Load ``uea:<Name>`` with aeon's ``load_classification`` (or ``load_regression``) as a raw set.

    Args:
        source: ``"uea:<Name>"`` (``"ucr:<Name>"`` is the same).
        task: None (classify, or regress for aeon's regression sets), ``"classify"`` or ``"regress"``.
        nodes: channel grouping: None (each of the C channels is a node with 1 feature), an int k (k nodes of
            C / k consecutive channels each: ``nodes=2`` on BasicMotions gives accelerometer and gyroscope
            with 3 axes each), or a string ``"0,1,2|3,4,5"`` (node groups separated by ``|``, all of one size).
        extract_path: aeon's download folder for sets it does not ship (default: aeon's own).

    Returns:
        x ``[S, N, T, F]`` with train samples first then test, ``mask [S, N, T]`` when lengths vary or values
        are missing, ``splits`` with aeon's train and test parts, ``meta["lengths"]`` int64 ``[S]``.
    """
    if options:
        raise DataError(f"{source}: unknown option(s) for a UEA set: {', '.join(sorted(options))}")
    if extract_path is not None and not isinstance(extract_path, str):
        raise DataError(f"{source}: option extract_path must be a folder (str), got {extract_path!r}")
    name = source.split(":", 1)[1].strip()
    if not name:
        raise DataError(f"{source}: give a set name, e.g. uea:BasicMotions (offline: {', '.join(OFFLINE)})")
    if task not in (None, "classify", "regress"):
        raise DataError(f"{source}: UEA sets are classify (or regress) tasks, got task {task!r}")
    try:
        from aeon.datasets import load_classification, load_regression
    except ImportError:
        raise DataError(f"{source}: reading UEA sets needs aeon: pip install attnpool[data]") from None

    regress = task == "regress" or (task is None and name in OFFLINE_REGRESSION)
    loader = load_regression if regress else load_classification
    parts = {}
    try:
        for part in ("train", "test"):
            parts[part] = loader(name, split=part, extract_path=extract_path)
    except Exception as err:  # aeon raises ValueError, OSError, URLError... for unknown or unreachable sets
        text = " ".join(str(err).split())
        if "regression problem" in text and task is None:
            return read_uea(source, task="regress", nodes=nodes, fracs=fracs, seed=seed, extract_path=extract_path)
        if "not in the list of valid" in text:
            reason = "unknown name"
        elif "download" in text.lower() or "urlopen" in text.lower():
            reason = "not shipped with aeon and could not be downloaded"
        else:
            reason = text[:200]
        raise DataError(f"{source}: cannot load {name!r} through aeon ({reason}); offline sets: {', '.join(OFFLINE)}") from None

    series = _as_list(parts["train"][0]) + _as_list(parts["test"][0])
    labels = np.concatenate([np.asarray(parts["train"][1]), np.asarray(parts["test"][1])])
    n_train = len(_as_list(parts["train"][0]))
    x, mask, lengths = _pad(series, source)
    x, mask, node_names, feature_names = _group(x, mask, nodes, name, source)

    if regress:
        y, class_names, task = labels.astype(np.float64).reshape(-1, 1), None, "regress"
    else:
        class_names = sorted(set(labels.astype(str).tolist()), key=_natural)
        lookup = {c: i for i, c in enumerate(class_names)}
        y, task = np.array([lookup[s] for s in labels.astype(str).tolist()], dtype=np.int64), "classify"

    S = x.shape[0]
    return TimeSeriesSet(
        x=x,
        y=y,
        task=task,
        mask=mask,
        node_names=node_names,
        feature_names=feature_names,
        class_names=class_names,
        splits={"train": np.arange(n_train, dtype=np.int64), "test": np.arange(n_train, S, dtype=np.int64)},
        meta={"source": source, "lengths": lengths, "aeon_name": name},
    )


def parse_nodes(nodes, channels: int, source: str) -> list[list[int]]:
    """Channel groups for ``nodes`` (None, an int, or ``"0,1,2|3,4,5"``) over ``channels`` channels."""
    if nodes is None:
        return [[c] for c in range(channels)]
    if isinstance(nodes, (int, np.integer)) and not isinstance(nodes, bool):
        k = int(nodes)
        if k < 1 or channels % k:
            raise DataError(f"{source}: nodes={k} must divide the {channels} channels into equal groups")
        size = channels // k
        return [list(range(i * size, (i + 1) * size)) for i in range(k)]
    if isinstance(nodes, str):
        text = nodes.strip()
        if text.isdigit():
            return parse_nodes(int(text), channels, source)
        try:
            groups = [[int(c) for c in group.split(",")] for group in text.split("|")]
        except ValueError:
            raise DataError(f"{source}: nodes must look like '0,1,2|3,4,5' (channel ids), got {nodes!r}") from None
        flat = [c for g in groups for c in g]
        if any(c < 0 or c >= channels for c in flat):
            raise DataError(f"{source}: nodes {nodes!r} names channels outside [0, {channels})")
        if len(set(flat)) != len(flat):
            raise DataError(f"{source}: nodes {nodes!r} uses a channel twice")
        if len({len(g) for g in groups}) != 1:
            raise DataError(f"{source}: nodes {nodes!r} must give every node the same number of channels")
        return groups
    raise DataError(f"{source}: nodes must be None, an int or a string like '0,1,2|3,4,5', got {nodes!r}")


def _as_list(X) -> list[np.ndarray]:
    # aeon gives [S, C, T] for equal-length sets and a list of [C, T_i] for variable-length ones.
    return [np.asarray(s, dtype=np.float64) for s in X]


def _pad(series: list[np.ndarray], source: str):
    """List of ``[C, T_i]`` -> x ``[S, C, T_max]`` padded at the end, mask ``[S, C, T_max]``, lengths ``[S]``."""
    if not series:
        raise DataError(f"{source}: aeon returned no samples")
    channels = {s.shape[0] for s in series}
    if len(channels) != 1:
        raise DataError(f"{source}: samples have different channel counts {sorted(channels)}")
    lengths = np.array([s.shape[1] for s in series], dtype=np.int64)
    S, C, T = len(series), channels.pop(), int(lengths.max())
    x = np.zeros((S, C, T))
    mask = np.zeros((S, C, T), dtype=bool)
    for i, s in enumerate(series):
        x[i, :, : s.shape[1]] = s
        mask[i, :, : s.shape[1]] = True
    missing = ~np.isfinite(x)
    mask &= ~missing  # missing values inside a series (NaN in the .ts file) are masked as well
    return np.where(mask, x, 0.0), mask, lengths


def _group(x, mask, nodes, name: str, source: str):
    """``[S, C, T]`` -> x ``[S, N, T, F]``, mask ``[S, N, T]`` (a step is valid when all its channels are)."""
    C = x.shape[1]
    groups = parse_nodes(nodes, C, source)
    xg = np.stack([x[:, g, :] for g in groups], axis=1)  # [S, N, F, T]
    mg = np.stack([mask[:, g, :].all(axis=1) for g in groups], axis=1)  # [S, N, T]
    xg = np.moveaxis(xg, 2, 3)  # [S, N, F, T] -> [S, N, T, F]
    known = CHANNELS.get(name)
    if known and len(known[0]) * len(known[1]) == C:
        channel = [f"{node}_{axis}" for node in known[0] for axis in known[1]]
        if nodes is not None and groups == parse_nodes(len(known[0]), C, source):
            node_names, feature_names = list(known[0]), list(known[1])
        else:
            node_names = ["+".join(channel[c] for c in g) for g in groups]
            feature_names = [f"f{j}" for j in range(len(groups[0]))] if len(groups[0]) > 1 else ["value"]
    else:
        node_names = ["+".join(f"ch{c}" for c in g) for g in groups]
        feature_names = [f"f{j}" for j in range(len(groups[0]))] if len(groups[0]) > 1 else ["value"]
    return xg, (None if mg.all() else mg), node_names, feature_names


def _natural(label: str):
    # Class "10" after "9": numeric labels sort by value, others alphabetically after them.
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)
