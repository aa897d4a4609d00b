"""Data at scale (issue 12): load time and memory against the series' size, and training throughput.

Parts (``--part``, each appends rows to ``--jsonl`` and rewrites the Markdown report from all rows):

- ``overhead``: ``attnpool train`` on an NPZ of S x 7 nodes x 30 steps x 2 features (S = 20,000; 14,000 train
  samples), one epoch, against a plain PyTorch loop over the same model (built from the run's own
  ``model_kwargs``), the same loader and batch size: forward, cross-entropy, backward, AdamW step, nothing else.
  Both run in fresh processes with the same threads, alternating, ``--rounds`` times; the best samples/s of each
  is kept (the machine is shared: the best is the least disturbed). attnpool's figure is
  ``train_samples_per_second`` of ``metrics.json``: the training batches only (validation, checkpointing and
  evaluation left out, as the plain loop has none).
- ``csv``: a wide CSV like a traffic-sensor set (``--nodes`` x ``--steps`` 5-minute steps, a daily pattern plus
  noise, 0.01% empty cells), then ``attnpool train CSV --window 12 --horizon 12 --epochs 1`` with
  ``--limit-batches``; measured: the file's read time (``load_data`` alone, in its own process, after its
  imports, which are timed apart), peak RSS of the
  whole ``train`` (``ru_maxrss`` of its process) and peak RssAnon (sampled from /proc every 50 ms), time to
  the first training batch, windows/s, and the test MAE of the model, persistence and seasonal naive.
- ``npy``: a float32 ``.npy`` series ``[steps, nodes]`` written in chunks, then ``attnpool train NPY --window 12
  --horizon 12 --epochs 1 --limit-batches 50``; measured as ``csv`` (RssAnon is what the issue bounds: the
  mapped file's pages are the kernel's to drop).

    python benchmarks/data_scale.py --part overhead                       # 20,000 samples, batch 16 and 256
    python benchmarks/data_scale.py --part csv --nodes 207 --steps 34272
    python benchmarks/data_scale.py --part npy --nodes 10000 --steps 105120 --limit-batches 50
    python benchmarks/data_scale.py --part overhead --quick               # the suite's smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.plain_loop:
        return plain_loop(*args.plain_loop, threads=args.threads)
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__), *(argv or sys.argv[1:])])
    work = Path(args.work or tempfile.mkdtemp(prefix="data_scale_"))
    work.mkdir(parents=True, exist_ok=True)
    rows = {"overhead": run_overhead, "csv": run_csv, "npy": run_npy, "load": run_load}[args.part](args, work)
    for row in rows:
        row.update(part=args.part, command=command, load=os.getloadavg()[0],
                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        print(json.dumps(row), flush=True)
    if args.jsonl is not None:
        jsonl = Path(args.jsonl)
        jsonl.parent.mkdir(parents=True, exist_ok=True)
        with jsonl.open("a") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        write_report(read_jsonl(jsonl), Path(args.out))
        print(f"wrote {args.out}")
    return 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("overhead", "csv", "npy", "load"), default="overhead")
    p.add_argument("--repeat", type=int, default=3, help="load: times each file is loaded (default: 3)")
    p.add_argument("--samples", type=int, default=20_000, help="overhead: samples in the NPZ (default: 20,000)")
    p.add_argument("--batch", type=lambda s: [int(b) for b in s.split(",")], default=[16, 256],
                   help="overhead: batch sizes (default: 16,256)")
    p.add_argument("--rounds", type=int, default=2, help="overhead: alternating rounds (default: 2)")
    p.add_argument("--nodes", type=int, default=207)
    p.add_argument("--steps", type=int, default=34_272)
    p.add_argument("--limit-batches", type=int, default=None,
                   help="csv/npy: --limit-batches of the training run (default: none for csv, 50 for npy)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="tiny sizes (the suite's smoke test); rows written only to --jsonl")
    p.add_argument("--work", default=None, help="folder for the generated data and runs (default: a temporary one)")
    p.add_argument("--jsonl", default=None, help="rows file (default: results/data_scale.jsonl; --quick: none)")
    p.add_argument("--out", default=None, help="report (default: results/data_scale.md next to the rows)")
    p.add_argument("--plain-loop", nargs=3, metavar=("NPZ", "RUN", "BATCH"), default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.jsonl is None and not args.quick:
        args.jsonl = str(HERE / "results" / "data_scale.jsonl")
    if args.jsonl is not None and args.out is None:
        args.out = str(Path(args.jsonl).with_suffix(".md"))
    if args.quick:
        args.samples, args.batch, args.rounds = 600, [16], 1
        args.nodes, args.steps, args.limit_batches = 5, 700, 5
    return args


# ---- processes and their memory ----------------------------------------------------------------------------


def measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd``; its wall seconds, exit code, output, peak RSS (ru_maxrss of that process) and peak RssAnon
    (sampled every 50 ms from /proc)."""
    env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    peak = {"anon_kb": 0}

    def sample():
        path = f"/proc/{proc.pid}/status"
        while proc.poll() is None:
            try:
                for line in open(path):
                    if line.startswith("RssAnon:"):
                        peak["anon_kb"] = max(peak["anon_kb"], int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.join(timeout=1)
    return dict(seconds=round(time.perf_counter() - start, 2), rc=proc.returncode, output=out[-2000:],
                peak_rss_mb=round(usage.ru_maxrss / 1024, 1), peak_anon_mb=round(peak["anon_kb"] / 1024, 1))


def attnpool_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "attnpool", *args]


def thread_env(threads: int) -> dict:
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


# ---- overhead: the CLI against a plain loop -----------------------------------------------------------------


def run_overhead(args, work: Path) -> list[dict]:
    npz = work / f"overhead_{args.samples}.npz"
    if not npz.exists():
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.samples, 7, 30, 2)).astype(np.float32)
        y = (x[:, :, 10:15, 0].mean(axis=(1, 2)) > 0).astype(np.int64)
        np.savez(npz, x=x, y=y)
    rows = []
    for batch in args.batch:
        cli, plain = [], []
        for r in range(args.rounds):
            run = work / f"overhead_b{batch}_r{r}"
            res = measured(attnpool_cmd("train", str(npz), "--out", str(run), "--overwrite", "--epochs", "1",
                                        "--batch-size", str(batch), "--threads", str(args.threads), "--no-progress"),
                           thread_env(args.threads))
            if res["rc"] != 0:
                raise SystemExit(f"attnpool train failed:\n{res['output']}")
            cli.append(json.loads((run / "metrics.json").read_text())["train_samples_per_second"])
            res = measured([sys.executable, __file__, "--plain-loop", str(npz), str(run), str(batch),
                            "--threads", str(args.threads)], thread_env(args.threads))
            if res["rc"] != 0:
                raise SystemExit(f"plain loop failed:\n{res['output']}")
            plain.append(float(res["output"].strip().splitlines()[-1]))
        rows.append(dict(batch=batch, samples=args.samples, threads=args.threads, cli_samples_per_s=cli,
                         plain_samples_per_s=plain, ratio=round(max(plain) / max(cli), 3)))
    return rows


def plain_loop(npz: str, run: str, batch: str, threads: int) -> int:
    """One epoch of the plain loop; prints samples/s (the last line of its output)."""
    import torch

    from attnpool.data import load_data, make_loader
    from attnpool.models import build_model

    torch.set_num_threads(threads)
    kwargs = json.loads((Path(run) / "config.json").read_text())["resolved"]["model"]
    model = build_model(kwargs, seed=0)
    model.train()
    ds = load_data(npz)
    loader = make_loader(ds, "train", int(batch), shuffle=True, seed=0, drop_last=True)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    seen, start = 0, time.perf_counter()
    for b in loader:
        pred, _ = model(b["x"], b["mask"])
        loss = torch.nn.functional.cross_entropy(pred, b["y"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(b["y"])
    print(seen / (time.perf_counter() - start))
    return 0


# ---- csv and npy: loading, memory, windows/s ---------------------------------------------------------------


def write_traffic_csv(path: Path, nodes: int, steps: int, seed: int = 0) -> None:
    """A wide CSV shaped like a traffic-sensor set: 5-minute ISO timestamps, one column per sensor; each sensor a
    level, a daily cycle (amplitude 10, its own phase), slow AR(1) deviations (phi 0.95, innovations sd 1) and
    measurement noise (sd 1); 0.01% empty cells (a window whose target misses a value is dropped: with 207 nodes
    x 12 target steps, denser gaps would drop most windows). Persistence is hurt by the cycle and the noise, seasonal naive
    by the day-to-day deviations: a model that reads the last hour can beat both."""
    rng = np.random.default_rng(seed)
    day = 288
    phase = rng.uniform(0, 2 * np.pi, nodes)
    level = rng.uniform(40, 70, nodes)
    times = np.datetime64("2024-03-01T00:00") + np.arange(steps) * np.timedelta64(5, "m")
    ar = rng.normal(0, 3.2, nodes)
    with path.open("w") as f:
        f.write("time," + ",".join(f"s{i}" for i in range(nodes)) + "\n")
        for start in range(0, steps, 4096):
            t = np.arange(start, min(steps, start + 4096))
            dev = np.empty((len(t), nodes))
            for k in range(len(t)):
                ar = 0.95 * ar + rng.normal(0, 1, nodes)
                dev[k] = ar
            v = level + 10 * np.sin(2 * np.pi * t[:, None] / day + phase) + dev + rng.normal(0, 1, (len(t), nodes))
            text = np.char.mod("%.2f", v.astype(np.float32))
            text[rng.random(text.shape) < 0.0001] = ""
            for i, row in zip(t, text):
                f.write(str(times[i]) + "," + ",".join(row) + "\n")


def write_npy(path: Path, nodes: int, steps: int, seed: int = 0) -> None:
    """A float32 ``[steps, nodes]`` series written chunk by chunk (never whole in memory)."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(steps, nodes))
    phase = rng.uniform(0, 2 * np.pi, nodes).astype(np.float32)
    for start in range(0, steps, 2048):
        t = np.arange(start, min(steps, start + 2048), dtype=np.float32)
        out[start:start + len(t)] = 50 + 10 * np.sin(2 * np.pi * t[:, None] / 288 + phase) + \
            rng.normal(0, 2, (len(t), nodes)).astype(np.float32)
    out.flush()
    del out


def load_seconds(path: Path, threads: int) -> dict:
    code = ("import time; t0 = time.perf_counter(); from attnpool.data import load_data; t = time.perf_counter(); "
            f"ds = load_data({str(path)!r}, window=12, horizon=12); print(t - t0, time.perf_counter() - t)")
    res = measured([sys.executable, "-c", code], thread_env(threads))
    if res["rc"] != 0:
        raise SystemExit(f"load_data failed:\n{res['output']}")
    imports, seconds = (float(v) for v in res["output"].strip().splitlines()[-1].split())
    return dict(load_seconds=round(seconds, 2), import_seconds=round(imports, 2),
                load_peak_rss_mb=res["peak_rss_mb"], load_peak_anon_mb=res["peak_anon_mb"])


def train_row(path: Path, args, work: Path) -> dict:
    run = work / f"run_{path.stem}"
    limit = [] if args.limit_batches is None else ["--limit-batches", str(args.limit_batches)]
    res = measured(attnpool_cmd("train", str(path), "--out", str(run), "--overwrite", "--window", "12",
                                "--horizon", "12", "--epochs", "1", *limit, "--threads", str(args.threads),
                                "--no-progress"), thread_env(args.threads))
    if res["rc"] != 0:
        raise SystemExit(f"attnpool train failed:\n{res['output']}")
    metrics = json.loads((run / "metrics.json").read_text())
    saved = json.loads((run / "config.json").read_text())
    test = metrics.get("test", {})
    return dict(train_seconds_total=res["seconds"], train_peak_rss_mb=res["peak_rss_mb"],
                train_peak_anon_mb=res["peak_anon_mb"], seconds_to_first_batch=metrics.get("seconds_to_first_batch"),
                windows_per_s=metrics.get("train_samples_per_second"), batch_size=saved["resolved"]["schedule"]["batch_size"],
                limit_batches=args.limit_batches, test={k: v for k, v in test.items() if not isinstance(v, dict)})


def run_csv(args, work: Path) -> list[dict]:
    return [series_row(work / f"traffic_{args.nodes}x{args.steps}.csv", write_traffic_csv, args, work)]


def run_npy(args, work: Path) -> list[dict]:
    if args.limit_batches is None:
        args.limit_batches = 50
    return [series_row(work / f"series_{args.nodes}x{args.steps}.npy", write_npy, args, work)]


def series_row(path: Path, write, args, work: Path) -> dict:
    """The series file ``path`` (``write``-n if missing), its load and its training run, as one row."""
    if not path.exists():
        write(path, args.nodes, args.steps)
    row = dict(nodes=args.nodes, steps=args.steps, file_mb=round(path.stat().st_size / 2**20, 1),
               series_mb=round(args.nodes * args.steps * 4 / 2**20, 1), threads=args.threads)
    row.update(load_seconds(path, args.threads))
    row.update(train_row(path, args, work))
    return row


def run_load(args, work: Path) -> list[dict]:
    """``load_data`` alone, ``--repeat`` times, on the CSV of ``--nodes`` x ``--steps`` (written if missing)."""
    path = work / f"traffic_{args.nodes}x{args.steps}.csv"
    if not path.exists():
        write_traffic_csv(path, args.nodes, args.steps)
    rows = []
    for _ in range(args.repeat):
        row = dict(nodes=args.nodes, steps=args.steps, file_mb=round(path.stat().st_size / 2**20, 1), threads=args.threads)
        row.update(load_seconds(path, args.threads))
        rows.append(row)
    return rows


# ---- report ------------------------------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def write_report(rows: list[dict], out: Path) -> None:
    lines = ["# Data at scale (issue 12)", "",
             "Written by `benchmarks/data_scale.py` from `data_scale.jsonl` (every row keeps its exact command, date "
             "and load average). Measured on this 2-core machine, shared with other work.", ""]
    over = [r for r in rows if r["part"] == "overhead"]
    if over:
        lines += ["## Per-step overhead: `attnpool train` against a plain PyTorch loop", "",
                  "| batch | samples | threads | attnpool samples/s (rounds) | plain loop samples/s (rounds) | "
                  "plain / attnpool (best of each) | load | command |", "|---|---|---|---|---|---|---|---|"]
        for r in over:
            lines.append(f"| {r['batch']} | {r['samples']} | {r['threads']} | {_list(r['cli_samples_per_s'])} | "
                         f"{_list(r['plain_samples_per_s'])} | {r['ratio']:.3f} | {r['load']:.1f} | `{r['command']}` |")
        lines.append("")
    loads = [r for r in rows if r["part"] == "load"]
    if loads:
        lines += ["## Reading a wide CSV: `load_data` alone (its imports timed apart)", "",
                  "| nodes x steps | file MB | load s | imports s | peak RSS MB | peak RssAnon MB | load | command |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in loads:
            lines.append(f"| {r['nodes']} x {r['steps']} | {r['file_mb']} | {r['load_seconds']} | {r['import_seconds']} | "
                         f"{r['load_peak_rss_mb']} | {r['load_peak_anon_mb']} | {r['load']:.1f} | `{r['command']}` |")
        lines.append("")
    for part, title in (("csv", "Wide CSV (traffic-like): load, memory, throughput"),
                        ("npy", "Memory-mapped .npy series")):
        sel = [r for r in rows if r["part"] == part]
        if not sel:
            continue
        lines += [f"## {title}", "",
                  "| nodes x steps | file MB | series MB (float32) | load s | load peak RSS MB | train peak RSS MB | "
                  "train peak RssAnon MB | s to first batch | batch | windows/s | test MAE / persistence / seasonal "
                  "naive | load | command |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sel:
            t = r.get("test", {})
            mae = " / ".join(f"{t[k]:.3f}" if isinstance(t.get(k), float) else "-"
                             for k in ("mae", "persistence_mae", "seasonal_naive_mae"))
            lines.append(f"| {r['nodes']} x {r['steps']} | {r['file_mb']} | {r['series_mb']} | {r['load_seconds']}"
                         f"{'' if 'import_seconds' in r else ' (with imports)'} | "
                         f"{r['load_peak_rss_mb']} | {r['train_peak_rss_mb']} | {r['train_peak_anon_mb']} | "
                         f"{r['seconds_to_first_batch']} | {r['batch_size']} | {r['windows_per_s']} | {mae} | "
                         f"{r['load']:.1f} | `{r['command']}` |")
        lines.append("")
    lines += ["Columns: *load s* is `load_data` in its own process (rows marked *with imports* also count the ~2.5 s of "
              "importing attnpool and torch); *s to first batch* is `metrics.json`'s `seconds_to_first_batch`, from "
              "`fit()`'s start (reading, statistics, model, Lightning) to the first training batch, without the CLI's "
              "own start-up; *peak RSS* is `ru_maxrss` of the process (the mapped .npy's pages count in it, the "
              "kernel can drop them); *peak RssAnon* is sampled every 50 ms from /proc; *windows/s* is "
              "`train_samples_per_second` (training batches only) at the batch size the rule chose.", ""]
    out.write_text("\n".join(lines) + "\n")


def _list(values) -> str:
    return " ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
