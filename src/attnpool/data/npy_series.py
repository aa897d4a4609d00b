"""``.npy`` series reader: one array ``[L, N]`` or ``[L, N, F]`` (float32/float64), opened memory-mapped.

The values are never copied: :class:`RawSeries` holds the read-only ``np.memmap``, so a series larger than RAM
can be windowed batch by batch. Validation streams over the file in chunks of rows with bounded memory:
inf (or a float64 beyond float32) is refused naming its first position in the file (the earliest step for
the usual C order); NaN is a missing value.

Names: nodes ``"0"`` .. ``"N-1"`` unless given (``node_names=`` a list, or a text file with one name per
line; a file ``<name>.nodes.txt`` beside ``<name>.npy`` is read when present); features ``"value"`` for
``[L, N]``, else ``"0"`` .. ``"F-1"`` unless given (``feature_names=`` a list or a comma-separated string).
There is no time column: the row number is the time.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from ..errors import DataError
from .series import RawSeries
from .wide_columns import FLOAT32_MAX

#: Bytes of the file read per validation chunk (the memory the check needs beside a few masks of its size).
CHUNK_BYTES = 8 << 20
NAMES_SUFFIX = ".nodes.txt"


def read_npy_series(path: str, *, node_names=None, feature_names=None) -> RawSeries:
    """Open a ``.npy`` series memory-mapped and validate it: values ``[L, N, F]`` (a view of the file).

    Args:
        path: the ``.npy`` file, holding float32 or float64 ``[L, N]`` (one feature) or ``[L, N, F]``.
        node_names: N names: a list of str, or the path of a text file with one name per line (default: the
            file ``<path without .npy>.nodes.txt`` if it exists, else ``"0"`` .. ``"N-1"``).
        feature_names: F names: a list of str or one comma-separated string (default: ``["value"]`` for
            ``[L, N]``, else ``"0"`` .. ``"F-1"``).

    Returns:
        The series: ``values`` a read-only ``np.memmap`` ``[L, N, F]`` (``[L, N]`` files get a trailing axis of
        1, still without a copy); ``times`` None; ``has_missing`` from the streaming check.

    Raises:
        DataError: one line naming the file and the dtype, shape or position at fault.
    """
    if not isinstance(path, str) or not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected a .npy file")
    shape, fortran, dtype, offset = _header(path)
    if dtype.kind != "f" or dtype.itemsize not in (4, 8) or not dtype.isnative:
        got = dtype.name if dtype.isnative else f"{dtype.name} in the other byte order ({dtype.str})"
        raise DataError(f"{path}: values must be float32 or float64, got {got} of shape {shape}")
    if len(shape) not in (2, 3):
        raise DataError(f"{path}: values must have shape [L, N] or [L, N, F] (steps, nodes, features), got shape {shape}")
    if 0 in shape:
        raise DataError(f"{path}: values are empty: shape {shape}")
    need = offset + int(np.prod(shape)) * dtype.itemsize
    size = os.path.getsize(path)
    if size < need:
        raise DataError(f"{path}: truncated: shape {shape} of {dtype.name} needs {need} bytes, the file has {size}")

    values = np.load(path, mmap_mode="r")  # read-only np.memmap, nothing read yet
    if values.ndim == 2:
        values = values[:, :, None]  # [L, N] -> [L, N, 1]: a view, still an np.memmap
    L, N, F = values.shape
    nodes = _node_names(node_names, N, path)
    features = _feature_names(feature_names, F, len(shape) == 2, path)
    has_missing = _scan(path, shape, fortran, dtype, offset)
    return RawSeries(values=values, times=None, node_names=nodes, feature_names=features, time_name=None,
                     source=path, has_missing=has_missing)


def _header(path: str):
    """Shape, Fortran order, dtype and the offset of the data, from the ``.npy`` header alone."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
            return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype), f.tell()
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"{path}: not a .npy file ({_first_line(err)})") from None


def _scan(path: str, shape, fortran: bool, dtype, offset: int) -> bool:
    """Stream the values once in chunks of ``CHUNK_BYTES``: refuse inf / beyond float32, return whether any NaN.

    Plain reads into one reused buffer, not the memory map: the pages read stay in the kernel's cache, not in
    this process, so memory is the buffer and its masks whatever the file's size.
    """
    total = int(np.prod(shape))
    per_chunk = max(1, CHUNK_BYTES // dtype.itemsize)
    n = min(per_chunk, total)
    buffer, magnitude, finite_mask = np.empty(n, dtype=dtype), np.empty(n, dtype=dtype), np.empty(n, dtype=bool)
    has_missing, any_present, done = False, False, 0
    with open(path, "rb") as f:
        f.seek(offset)
        while done < total:
            m = min(per_chunk, total - done)
            x = buffer[:m]
            got = f.readinto(memoryview(x).cast("B"))
            if got != x.nbytes:
                raise DataError(f"{path}: truncated: read {done + got // dtype.itemsize} of {total} values")
            # One pass in the usual case (every value finite); a float32 that is finite is within float32.
            finite = np.isfinite(x, out=finite_mask[:m])  # False at NaN (missing) and inf
            all_finite = bool(finite.all())
            any_present = any_present or all_finite or bool(finite.any())
            in_range = dtype.itemsize == 4 or (all_finite and x.max() <= FLOAT32_MAX and x.min() >= -FLOAT32_MAX)
            if not (all_finite and in_range):
                bad = np.abs(x, out=magnitude[:m]) > FLOAT32_MAX  # inf, and float64 beyond float32; NaN is not
                if bad.any():
                    k = int(np.flatnonzero(bad)[0])
                    where = np.unravel_index(done + k, shape, order="F" if fortran else "C")
                    raise DataError(f"{path}: value {float(x[k])!r} at {_position(where)} is not finite in float32 "
                                    f"(NaN marks a missing value; inf is refused)")
                has_missing = has_missing or not all_finite
            done += m
    if not any_present:
        raise DataError(f"{path}: every value is missing ({total} values are NaN); nothing to learn from")
    return has_missing


def _position(where) -> str:
    names = ("step", "node", "feature")
    return ", ".join(f"{name} {int(i)}" for name, i in zip(names, where))


def _node_names(option, N: int, path: str) -> list[str]:
    if option is None:
        sidecar = path[: -len(".npy")] + NAMES_SUFFIX if path.lower().endswith(".npy") else path + NAMES_SUFFIX
        if not os.path.isfile(sidecar):
            return [str(i) for i in range(N)]
        option = sidecar
    if isinstance(option, str):
        names = _read_names(option, path)
        source = f"node names file {option}"
    elif isinstance(option, (list, tuple)) and all(isinstance(n, str) for n in option):
        names, source = list(option), "node_names"
    else:
        raise DataError(f"{path}: option node_names must be a list of str or the path of a text file (one name per "
                        f"line), got {type(option).__name__}")
    return _checked(names, N, "nodes", source, path)


def _feature_names(option, F: int, two_axes: bool, path: str) -> list[str]:
    if option is None:
        return ["value"] if two_axes else [str(i) for i in range(F)]
    if isinstance(option, str):
        option = [name.strip() for name in option.split(",")]
    if not isinstance(option, (list, tuple)) or not all(isinstance(n, str) for n in option):
        raise DataError(f"{path}: option feature_names must be a list of str or one comma-separated string, "
                        f"got {type(option).__name__}")
    return _checked(list(option), F, "features", "feature_names", path)


def _read_names(names_path: str, path: str) -> list[str]:
    try:
        with open(names_path, encoding="utf-8") as f:
            lines = [line.strip() for line in f.read().splitlines()]
    except FileNotFoundError:
        raise DataError(f"{path}: node names file {names_path} not found") from None
    except (UnicodeDecodeError, OSError) as err:
        raise DataError(f"{path}: cannot read node names file {names_path} ({_first_line(err)})") from None
    while lines and not lines[-1]:  # a final newline (or a few) is not a name
        lines.pop()
    return lines


def _checked(names: list[str], count: int, what: str, source: str, path: str) -> list[str]:
    if len(names) != count:
        raise DataError(f"{path}: {source} gives {len(names)} names, the array has {count} {what}")
    if any(not n for n in names):
        raise DataError(f"{path}: {source}: name {names.index('') + 1} is empty")
    dup = [name for name, n in Counter(names).items() if n > 1]
    if dup:
        raise DataError(f"{path}: {source}: {dup[0]!r} names two {what}")
    return names


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
