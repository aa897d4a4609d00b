"""A/B timing of AttentionPool between two source trees, interleaved in one process (robust to a shared machine).

    .venv/bin/python benchmarks/ab_dispatch.py OLD_SRC_DIR [--big]

OLD_SRC_DIR holds an ``attnpool`` package (e.g. ``git archive <commit> src | tar -x -C /tmp/old``, then
``/tmp/old/src``); it is imported as ``attnpool_old`` beside the installed ``attnpool``. Each round times both
trees back to back on the same input (blocks of calls, as timeit does); the report is the median over rounds.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import torch


def load_old(src: Path):
    spec = importlib.util.spec_from_file_location(
        "attnpool_old", src / "attnpool" / "__init__.py", submodule_search_locations=[str(src / "attnpool")]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["attnpool_old"] = module
    spec.loader.exec_module(module)
    return module


def block_time(step, calls):
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("old_src")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--shapes", nargs="*", default=["14,30,32", "65536,30,32"])
    p.add_argument("--out", default=None, help="also write the lines, the command and the load to this Markdown file")
    args = p.parse_args()
    lines = []
    load_start = open("/proc/loadavg").read().split()[:3]
    torch.set_num_threads(1)
    import attnpool

    old = load_old(Path(args.old_src))
    for text in args.shapes:
        shape = tuple(int(v) for v in text.split(","))
        torch.manual_seed(0)
        feat = torch.randn(shape)
        x = feat.clone().requires_grad_(True)
        pools = {"old": old.AttentionPool(shape[-1]), "new": attnpool.AttentionPool(shape[-1])}
        pools["new"].load_state_dict(pools["old"].state_dict())

        def fwd(pool, feat=feat):
            with torch.no_grad():
                pool(feat)

        def fb(pool, x=x):
            x.grad = None
            pool(x).sum().backward()

        for label, step in (("forward", fwd), ("fwd+bwd", fb)):
            for pool in pools.values():
                for _ in range(3):
                    step(pool)
            one = block_time(lambda step=step, pools=pools: step(pools["new"]), 1)
            calls = max(1, min(2000, int(5e-3 / max(one, 1e-7))))
            rounds = args.rounds if calls > 1 else max(5, args.rounds // 6)
            times = {k: [] for k in pools}
            for i in range(rounds):
                for key in ("old", "new") if i % 2 == 0 else ("new", "old"):  # alternate who goes first
                    times[key].append(block_time(lambda step=step, pools=pools, key=key: step(pools[key]), calls))
            med = {k: statistics.median(v) for k, v in times.items()}
            ratio = [n / o for n, o in zip(times["new"], times["old"])]
            lines.append(f"| {list(shape)} | {label} | {med['old'] * 1e6:.1f} us | {med['new'] * 1e6:.1f} us "
                         f"| {statistics.median(ratio):.3f} |")
            print(lines[-1], flush=True)
    if args.out:
        load_end = open("/proc/loadavg").read().split()[:3]
        Path(args.out).write_text("\n".join([
            "# AttentionPool A/B: two source trees, interleaved in one process", "",
            f"Command: `.venv/bin/python benchmarks/ab_dispatch.py {' '.join(sys.argv[1:])}`", "",
            f"torch {torch.__version__}, 1 thread; load average {' '.join(load_start)} at the start, "
            f"{' '.join(load_end)} at the end (a shared machine: absolute times are inflated; the paired ratio "
            "is the measure).", "",
            "| feat | pass | old (median) | new (median) | new/old (median of paired ratios) |",
            "|---|---|---|---|---|", *lines, ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
