"""Read time and peak memory of the series readers: CSV (pyarrow and row by row), Parquet (wide, long), .npy.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/read_speed.py --dir /tmp/read_speed [--npy-steps 105120 --npy-nodes 10000]
        [--out benchmarks/results/read_speed.md]

Writes the files under ``--dir`` (kept, except the big .npy, deleted after its run), then reads each one in a
fresh process under ``/usr/bin/time -v``: the table gives the read's own seconds (``time.perf_counter`` around
the call), the process's peak RSS, the RSS right after the imports (``import attnpool`` brings torch, about
200 MB), and for the .npy the process's anonymous and file-backed RSS after the read (``/proc/self/status``).
The CSV is shaped like a standard traffic-sensor set: 207 nodes x 34,272 five-minute steps (about 42 MB).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

READ = r"""
import resource, sys, time
import numpy as np
import importlib
kind, path = sys.argv[1], sys.argv[2]
module, name = {"csv": ("wide_csv", "read_csv_series"), "csv-rows": ("wide_csv", "read_csv_rows"),
                "parquet": ("parquet", "read_parquet_series"), "npy": ("npy_series", "read_npy_series")}[kind]
fn = getattr(importlib.import_module("attnpool.data." + module), name)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
raw = fn(path)
seconds = time.perf_counter() - start
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(f"RESULT {seconds:.3f} {base // 1024} {status['RssAnon'].split()[0]} {status['RssFile'].split()[0]} "
      f"{raw.values.shape} {raw.values.dtype} {type(raw.values).__name__} missing={raw.has_missing}")
"""


LEGEND = """- read s: the reader call alone; peak RSS: `/usr/bin/time -v`'s maximum resident set of the whole process;
  RSS after imports: its maximum before the read (numpy, pyarrow, and torch through `import attnpool`).
- RssAnon / RssFile after: the process's anonymous and file-backed resident memory once the series is read
  (`/proc/self/status`); a memory-mapped `.npy` adds only what the check reads into its buffer.
- csv: `read_csv_series` (pyarrow, as installed here); csv-rows: the row-by-row reader it falls back to;
  csv (old reader): the row-by-row reader before this change (all rows as text, then converted).
- The `.npy` is read right after it is written (then deleted), so mostly from the kernel's page cache (23 GB of
  RAM here); a cold read is bounded by the disk instead.
"""


def make_csv(path: Path, steps: int, nodes: int, seed: int = 0) -> None:
    """A time column of 5-minute ISO stamps and ``nodes`` speed-like columns with 2% empty cells."""
    rng = np.random.default_rng(seed)
    t = np.datetime64("2012-03-01T00:00") + np.arange(steps) * np.timedelta64(5, "m")
    with open(path, "w") as f:
        f.write("time," + ",".join(f"s{i}" for i in range(nodes)) + "\n")
        for start in range(0, steps, 4096):
            v = (60 + 10 * rng.standard_normal((min(4096, steps - start), nodes))).round(2)
            miss = rng.random(v.shape) < 0.02
            for r in range(v.shape[0]):
                cells = ["" if miss[r, i] else repr(float(v[r, i])) for i in range(nodes)]
                f.write(str(t[start + r]) + "," + ",".join(cells) + "\n")


def make_parquet(csv_path: Path, wide: Path, long: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "src"))
    from attnpool.data.wide_csv import read_csv_series

    raw = read_csv_series(str(csv_path))
    times = pa.array(raw.times.astype("datetime64[s]"))
    v = raw.values[:, :, 0]
    pq.write_table(pa.table({"time": times} | {n: v[:, i] for i, n in enumerate(raw.node_names)}), wide)
    L, N = v.shape
    pq.write_table(pa.table({"time": pa.array(np.repeat(raw.times.astype("datetime64[s]"), N)),
                             "node": pa.array(np.tile(np.array(raw.node_names), L)), "value": v.reshape(-1)}), long)


def make_npy(path: Path, steps: int, nodes: int) -> None:
    """float32 [steps, nodes] written in chunks through a memory map (never whole in memory)."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(steps, nodes))
    rng = np.random.default_rng(0)
    chunk = max(1, (64 << 20) // (4 * nodes))
    for start in range(0, steps, chunk):
        block = rng.standard_normal((min(chunk, steps - start), nodes), dtype=np.float32)
        block[rng.random(block.shape) < 0.001] = np.nan
        out[start:start + len(block)] = block
    out.flush()
    del out


def measure(kind: str, path: Path, src: Path = ROOT / "src", label: str | None = None) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", READ, kind, str(path)]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(src))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} {path}: failed\n{proc.stderr[-2000:]}")
    result = re.search(r"RESULT (\S+) (\S+) (\S+) (\S+) (.*)", proc.stdout)
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"kind": label or kind, "file": path.name, "MB": path.stat().st_size / 1e6, "seconds": float(result.group(1)),
            "peak_MB": peak / 1024, "base_MB": int(result.group(2)), "anon_MB": int(result.group(3)) / 1024,
            "file_MB": int(result.group(4)) / 1024, "what": result.group(5)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dir", default="/tmp/read_speed")
    p.add_argument("--steps", type=int, default=34272)
    p.add_argument("--nodes", type=int, default=207)
    p.add_argument("--npy-steps", type=int, default=0, help="also a big .npy [steps, nodes] (0: none)")
    p.add_argument("--npy-nodes", type=int, default=10000)
    p.add_argument("--skip-rows", action="store_true", help="skip the row-by-row CSV reader (slow)")
    p.add_argument("--old-src", default=None, help="also read the CSV with the read_csv_series of this src folder "
                   "(e.g. from `git archive <commit> src | tar -x -C /tmp/old`: /tmp/old/src)")
    p.add_argument("--out", default=None, help="also write the table and the command to this Markdown file")
    args = p.parse_args()
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    csv_path, wide, long = d / f"wide_{args.nodes}x{args.steps}.csv", d / "wide.parquet", d / "long.parquet"
    if not csv_path.exists():
        make_csv(csv_path, args.steps, args.nodes)
    if not wide.exists() or not long.exists():
        make_parquet(csv_path, wide, long)
    runs = [("csv", csv_path)] + ([] if args.skip_rows else [("csv-rows", csv_path)])
    runs += [("parquet", wide), ("parquet", long)]
    rows = [measure(kind, path) for kind, path in runs]
    if args.old_src:
        rows.insert(0, measure("csv", csv_path, Path(args.old_src), label="csv (old reader)"))
    if args.npy_steps:
        big = d / f"series_{args.npy_steps}x{args.npy_nodes}.npy"
        try:
            start = time.perf_counter()
            make_npy(big, args.npy_steps, args.npy_nodes)
            print(f"wrote {big} ({big.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - start:.0f} s", flush=True)
            rows.append(measure("npy", big))
        finally:
            big.unlink(missing_ok=True)

    load = open("/proc/loadavg").read().split()[:3]
    lines = ["| reader | file | size MB | read s | peak RSS MB | RSS after imports MB | RssAnon after MB | RssFile after MB | series |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['kind']} | {r['file']} | {r['MB']:.0f} | {r['seconds']:.2f} | {r['peak_MB']:.0f} | {r['base_MB']} | "
                     f"{r['anon_MB']:.0f} | {r['file_MB']:.0f} | {r['what']} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        cmd = " ".join(["OMP_NUM_THREADS=1 .venv/bin/python", *sys.argv])
        Path(args.out).write_text(f"# Series readers: read time and memory\n\n`{cmd}`\n\n{text}\n\n{LEGEND}\n"
                                  f"{os.cpu_count()} CPU cores (shared; load average {' '.join(load)} at the end).\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
