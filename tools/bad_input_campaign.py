"""Bad-input campaign: hostile files, options and run directories through ``attnpool``'s command line.

Every case is a command that must fail cleanly: exit code 2 and one line ``attnpool: error: ...`` on stderr
(argparse's own usage errors, exit 2, count as clean too). The table counts, per outcome:

- one-line error: exit 2, one ``attnpool:`` line, no traceback;
- traceback: an exception escaped ``attnpool.cli.main`` (a bug);
- silent: exit 0 (the bad input was accepted), or a NaN/inf written into any output file;
- hang: no answer within ``--timeout`` seconds.

Cases run in one process through ``attnpool.cli.main(argv)`` (the function the ``attnpool`` script calls), with
stdout/stderr captured; ``--subprocess`` runs each as ``python -m attnpool`` instead (slower, same table)::

    OMP_NUM_THREADS=1 .venv/bin/python tools/bad_input_campaign.py [--subprocess] [--out table.md]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

TINY = ["--data-option", "samples=60", "--epochs", "2", "--batch-size", "32", "--no-progress", "--threads", "1", "--encoder", "linear"]


class Hang(BaseException):
    pass


def build_cases(tmp: Path) -> list[tuple[str, list[str]]]:
    """``(name, argv)`` for every case; files are written under ``tmp``. Needs the good runs made by ``prepare``."""
    cases: list[tuple[str, list[str]]] = []
    good, reg = tmp / "good_run", tmp / "reg_run"
    rng = np.random.default_rng(0)

    def npz(name, **arrays):
        path = tmp / f"{name}.npz"
        base = {"x": rng.normal(size=(40, 3, 10, 1)), "y": rng.integers(0, 3, size=40)}
        base.update(arrays)
        np.savez(path, **{k: v for k, v in base.items() if v is not None})
        return str(path)

    def peaks_npz(name, value, where):
        x = rng.normal(size=(20, 7, 30, 1))
        x[where] = value
        return npz(name, x=x, y=rng.integers(0, 7, size=20))

    # -- x values beyond float32, NaN, inf: at train, evaluate and predict
    for value in (1e300, -1e300, 1e39, np.inf, -np.inf, np.nan):
        for where, tag in (((0, 0, 0, 0), "first"), ((19, 6, 29, 0), "last")):
            f = peaks_npz(f"x_{value}_{tag}", value, where)
            cases.append((f"npz x={value} at {tag}: train", ["train", f, "--out", str(tmp / "o"), *TINY[2:]]))
            cases.append((f"npz x={value} at {tag}: evaluate", ["evaluate", str(good), f]))
            cases.append((f"npz x={value} at {tag}: predict", ["predict", str(good), f, "--out", str(tmp / "p.csv")]))
    x38 = rng.normal(size=(20, 7, 30, 1)).astype(np.float32)
    x38[2, 3, 4, 0] = 3e38
    f = npz("x_3e38", x=x38, y=rng.integers(0, 7, size=20))
    cases.append(("npz finite float32 3e38: predict", ["predict", str(good), f, "--out", str(tmp / "p.csv")]))
    cases.append(("npz finite float32 3e38: evaluate", ["evaluate", str(good), f]))
    # -- y
    for name, y in (
        ("y regress 1e39", np.full((40, 1), 1e39)),
        ("y regress nan", np.r_[np.ones(39), np.nan][:, None]),
        ("y regress inf", np.r_[np.ones(39), np.inf][:, None]),
        ("y 10**9", np.r_[np.zeros(39), 10**9].astype(np.int64)),
        ("y -1", np.r_[np.zeros(39), -1].astype(np.int64)),
        ("y uint64 max", np.full(40, 2**64 - 1, dtype=np.uint64)),
        ("y wrong S", np.zeros(7, dtype=np.int64)),
        ("y bool", np.zeros(40, dtype=bool)),
        ("y complex", np.zeros(40, dtype=complex)),
        ("y float 1e300 classify", np.full(40, 1e300)),
    ):
        cases.append((f"npz {name}: train", ["train", npz(name.replace(" ", "_"), y=y), "--out", str(tmp / "o"), *TINY[2:]]))
    cases.append(
        (
            "npz y float 1e300 --task classify",
            ["train", npz("yc", y=np.full(40, 1e300)), "--task", "classify", "--out", str(tmp / "o"), *TINY[2:]],
        )
    )
    # labels outside the trained classes, at evaluate
    f = peaks_npz("labels_big", 0.0, (0, 0, 0, 0))
    data = dict(np.load(f))
    data["y"] = np.arange(20) % 12
    np.savez(f, **data)
    cases.append(("labels 0..11 for a 7-class run: evaluate", ["evaluate", str(good), f]))
    # -- NPZ structure
    structure = {
        "no x": dict(x=None),
        "no y": dict(y=None),
        "x 3-d": dict(x=np.zeros((40, 3, 10))),
        "x 0 samples": dict(x=np.zeros((0, 3, 10, 1)), y=np.zeros(0, dtype=int)),
        "x 0 steps": dict(x=np.zeros((40, 3, 0, 1))),
        "mask shape": dict(mask=np.ones((40, 3), dtype=bool)),
        "mask values 2": dict(mask=np.full((40, 3, 10), 2)),
        "mask all False": dict(mask=np.zeros((40, 3, 10), dtype=bool)),
        "x complex": dict(x=np.zeros((40, 3, 10, 1), dtype=complex)),
        "x bool": dict(x=np.zeros((40, 3, 10, 1), dtype=bool)),
        "x strings": dict(x=np.full((40, 3, 10, 1), "a")),
        "adjacency nan": dict(adjacency=np.full((3, 3), np.nan)),
        "adjacency 1e39": dict(adjacency=np.full((3, 3), 1e39)),
        "adjacency shape": dict(adjacency=np.ones((2, 2))),
        "split bad": dict(split=np.full(40, 7)),
        "split words": dict(split=np.full(40, "foo")),
        "class_names 2d": dict(class_names=np.array([["a"]])),
        "class_names too few": dict(class_names=np.array(["a"])),
        "node_names count": dict(node_names=np.array(["a"])),
    }
    for name, arrays in structure.items():
        f = npz("s_" + name.replace(" ", "_"), **arrays)
        if arrays.get("x", 0) is None:
            data = dict(np.load(f))
            data.pop("x", None)
            np.savez(f, **data)
        cases.append((f"npz {name}: train", ["train", f, "--out", str(tmp / "o"), *TINY[2:]]))
    obj = tmp / "object.npz"
    np.savez(obj, x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    raw = {
        "empty.npz": b"",
        "garbage.npz": b"hello world",
        "truncated.npz": Path(npz("t", x=np.zeros((40, 3, 10, 1)))).read_bytes()[:300],
        "single.npz": b"\x93NUMPY\x01\x00" + b"0" * 100,
    }
    for name, content in raw.items():
        (tmp / name).write_bytes(content)
    for name in ("object.npz", *raw):
        for verb in ("train", "evaluate", "predict"):
            argv = {
                "train": ["train", str(tmp / name), "--out", str(tmp / "o"), *TINY[2:]],
                "evaluate": ["evaluate", str(good), str(tmp / name)],
                "predict": ["predict", str(good), str(tmp / name), "--out", str(tmp / "p.csv")],
            }[verb]
            cases.append((f"{name}: {verb}", argv))
    cases.append(("npz is a directory", ["train", str(tmp), "--out", str(tmp / "o"), *TINY[2:]]))
    cases.append(("npz missing", ["train", str(tmp / "nope.npz"), "--out", str(tmp / "o"), *TINY[2:]]))
    cases.append(("unknown extension", ["train", str(tmp / "x.feather"), "--out", str(tmp / "o"), *TINY[2:]]))
    # -- wide CSV
    rows = [f"{i},{np.sin(i / 5):.3f},{np.cos(i / 5):.3f}" for i in range(120)]

    def csv(name, lines):
        path = tmp / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def cell(value):
        return ["time,a,b"] + rows[:50] + [f"50,{value},1.0"] + rows[51:]

    csvs = {
        "cell 1e39": cell("1e39"),
        "cell 1e308": cell("1e308"),
        "cell -1e39": cell("-1e39"),
        "cell inf": cell("inf"),
        "cell -inf": cell("-Infinity"),
        "cell text": cell("abc"),
        "cell 1e400": cell("1e400"),
        "all missing": ["time,a,b"] + [f"{i},," for i in range(120)],
        "all NA": ["time,a,b"] + [f"{i},NA,NA" for i in range(120)],
        "header only": ["time,a,b"],
        "one column": ["time"] + [str(i) for i in range(50)],
        "duplicate columns": ["time,a,a"] + rows,
        "unsorted time": ["time,a,b"] + rows[60:] + rows[:60],
        "ragged row": ["time,a,b"] + rows[:10] + ["10,1.0"] + rows[11:],
        "empty header cell": ["time,,b"] + rows,
        "too few rows": ["time,a,b"] + rows[:5],
        "features mismatch": ["time,a:x,a:y,b:x"] + [f"{i},1,2,3" for i in range(80)],
        "one target missing everywhere": ["time,a,b"] + [f"{i},{i},NA" for i in range(120)],
    }
    for name, lines in csvs.items():
        f = csv("c_" + name.replace(" ", "_"), lines)
        cases.append((f"csv {name}: train", ["train", f, "--out", str(tmp / "o"), "--window", "10", *TINY[2:]]))
    (tmp / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (tmp / "empty.csv").write_bytes(b"")
    for name in ("binary.csv", "empty.csv"):
        cases.append((f"{name}: train", ["train", str(tmp / name), "--out", str(tmp / "o"), *TINY[2:]]))
    good_csv = csv("good", ["time,a,b"] + rows)
    for opt in ("delimiter=;;", "delimiter=5", "time_column=nope", "time_column=3", "level=2", "samples=5"):
        cases.append(
            (f"csv --data-option {opt}", ["train", good_csv, "--out", str(tmp / "o"), "--window", "10", "--data-option", opt, *TINY[2:]])
        )
    for flag in (("--window", "0"), ("--window", "500"), ("--horizon", "0"), ("--nodes", "2"), ("--task", "classify")):
        cases.append((f"csv {' '.join(flag)}", ["train", good_csv, "--out", str(tmp / "o"), *flag, *TINY[2:]]))
    # -- .npy series and Parquet tables (forecasting, like the CSV)
    series = np.stack([np.sin(np.arange(120) / 5), np.cos(np.arange(120) / 5)], axis=1).astype(np.float32)  # [L, N]

    def npy(name, array):
        path = tmp / f"{name}.npy"
        np.save(path, array)
        return str(path)

    with_inf = series.copy()
    with_inf[50, 1] = np.inf
    npys = {
        "int64": npy("s_int64", series.astype(np.int64)),
        "float16": npy("s_float16", series.astype(np.float16)),
        "1-D": npy("s_1d", series[:, 0]),
        "4-D": npy("s_4d", series[:, :, None, None]),
        "inf value": npy("s_inf", with_inf),
        "all NaN": npy("s_nan", np.full_like(series, np.nan)),
        "too few rows": npy("s_short", series[:5]),
        "object array": npy("s_object", np.array([[1, "a"]], dtype=object)),
    }
    truncated = tmp / "s_truncated.npy"
    truncated.write_bytes(open(npys["inf value"], "rb").read()[:300])
    npys["truncated"] = str(truncated)
    (tmp / "s_names.npy").write_bytes(open(npy("s_names_src", series), "rb").read())
    (tmp / "s_names.nodes.txt").write_text("a\nb\nc\n")  # 3 names for 2 nodes
    npys["names file wrong count"] = str(tmp / "s_names.npy")
    for name, path in npys.items():
        cases.append((f"npy {name}: train", ["train", path, "--out", str(tmp / "o"), "--window", "10", *TINY[2:]]))
    cases.append(("npy --data-option level=2", ["train", npy("s_good", series), "--out", str(tmp / "o"), "--window", "10",
                                                "--data-option", "level=2", *TINY[2:]]))
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # the columnar extra is not installed: no Parquet cases
        pq = None
    if pq is not None:
        def parquet(name, table):
            path = tmp / f"{name}.parquet"
            pq.write_table(pa.table(table), path)
            return str(path)

        steps = list(range(120))
        parquets = {
            "string values": parquet("p_str", {"time": steps, "a": [str(v) for v in series[:, 0]], "b": series[:, 1]}),
            "inf cell": parquet("p_inf", {"time": steps, "a": with_inf[:, 1], "b": series[:, 0]}),
            "duplicate time,node": parquet("p_dup", {"time": [0, 0, 1], "node": ["a", "a", "a"], "value": [1.0, 2.0, 3.0]}),
            "null node": parquet("p_nullnode", {"time": [0, 1, 2], "node": ["a", None, "a"], "value": [1.0, 2.0, 3.0]}),
            "unsorted time": parquet("p_unsorted", {"time": steps[60:] + steps[:60], "a": series[:, 0], "b": series[:, 1]}),
            "time only": parquet("p_timeonly", {"time": steps}),
        }
        (tmp / "p_notparquet.parquet").write_text("time,a\n1,2\n")
        parquets["not a Parquet file"] = str(tmp / "p_notparquet.parquet")
        for name, path in parquets.items():
            cases.append((f"parquet {name}: train", ["train", path, "--out", str(tmp / "o"), "--window", "10", *TINY[2:]]))
        cases.append(("parquet --data-option layout=diagonal",
                      ["train", parquet(
                          "p_good", {"time": steps, "a": series[:, 0], "b": series[:, 1]}),
                       "--out", str(tmp / "o"), "--window", "10", "--data-option", "layout=diagonal", *TINY[2:]]))
    # -- synthetic options
    for opt in (
        "level=abc",
        "noise=abc",
        "noise=1e300",
        "noise=-1",
        "level=inf",
        "samples=0",
        "samples=-5",
        "samples=abc",
        "samples=2.5",
        "samples=1000000000000",
        "steps=1",
        "steps=abc",
        "peak_width=100",
        "peak_width=0",
        "gain=0",
        "gain=abc",
        "gain=2,1",
        "amplitude=abc",
        "amplitude=-1,1",
        "distractors=-1",
        "distractors=100",
        "distractor_ratio=x",
        "unknown=1",
        "samples=",
        "=5",
        "novalue",
    ):
        cases.append((f"synthetic --data-option {opt}", ["train", "synthetic:peaks", "--out", str(tmp / "o"), *TINY[:1], opt, *TINY[2:]]))
    for flag in (("--nodes", "1"), ("--nodes", "abc"), ("--task", "regress"), ("--task", "nope")):
        cases.append((f"synthetic {' '.join(flag)}", ["train", "synthetic:peaks", "--out", str(tmp / "o"), *flag, *TINY]))
    cases.append(("synthetic:nope", ["train", "synthetic:nope", "--out", str(tmp / "o"), *TINY]))
    cases.append(("uea:NoSuchSet", ["train", "uea:NoSuchSet", "--out", str(tmp / "o"), *TINY[2:]]))
    cases.append(("uea: empty name", ["train", "uea:", "--out", str(tmp / "o"), *TINY[2:]]))
    cases.append(
        ("uea extract_path=5", ["train", "uea:BasicMotions", "--data-option", "extract_path=5", "--out", str(tmp / "o"), *TINY[2:]])
    )
    cases.append(("uea --nodes 4 (6 channels)", ["train", "uea:BasicMotions", "--nodes", "4", "--out", str(tmp / "o"), *TINY[2:]]))
    # -- config files
    configs = {
        "epochs true": {"epochs": True},
        "epochs 2.5": {"epochs": 2.5},
        "epochs '3'": {"epochs": "3"},
        "epochs 0": {"epochs": 0},
        "lr fast": {"lr": "fast"},
        "lr -1": {"lr": -1},
        "lr 0": {"lr": 0},
        "split 5": {"split": 5},
        "split [1,0]": {"split": [1, 0]},
        "split sums 1.5": {"split": [0.5, 0.5, 0.5]},
        "split negative": {"split": [1.2, -0.1, -0.1]},
        "split strings": {"split": ["a", "b", "c"]},
        "progress no": {"progress": "no"},
        "pool nope": {"pool": "nope"},
        "encoder 1": {"encoder": 1},
        "data 5": {"data": 5},
        "unknown key": {"epochs": 2, "speed": 9},
        "channels 0": {"channels": 0},
        "batch_size -1": {"batch_size": -1},
        "dropout 1.5": {"dropout": 1.5},
        "patience -1": {"patience": -1},
        "seed -1": {"seed": -1},
        "threads 0": {"threads": 0},
        "task foo": {"task": "foo"},
        "data_options list": {"data_options": [1]},
        "pool_kwargs str": {"pool_kwargs": "x"},
        "pool_kwargs unknown": {"pool_kwargs": {"bogus": 1}},
        "heads not dividing": {"pool": "multihead", "pool_kwargs": {"heads": 5}},
        "weight_decay nan": {"weight_decay": float("nan")},
        "devices 1.5": {"devices": 1.5},
        "nodes 2.5": {"nodes": 2.5},
        "window true": {"window": True},
        "data_options samples str": {"data_options": {"samples": "many"}},
    }
    for name, body in configs.items():
        path = tmp / f"cfg_{len(cases)}.json"
        path.write_text(json.dumps({"data": "synthetic:peaks", **body}))
        cases.append((f"config {name}", ["train", "--config", str(path), "--out", str(tmp / "o")]))
    for name, text in (("invalid json", "{epochs: 2"), ("list", "[1, 2]"), ("empty", ""), ("yaml garbage", ": : :\n- [")):
        path = tmp / f"cfg_{len(cases)}.{'yaml' if 'yaml' in name else 'json'}"
        path.write_text(text)
        cases.append((f"config {name}", ["train", "--config", str(path), "--out", str(tmp / "o")]))
    cases.append(("config missing", ["train", "--config", str(tmp / "none.json"), "--out", str(tmp / "o")]))
    cases.append(("config is a directory", ["train", "--config", str(tmp), "--out", str(tmp / "o")]))
    # -- flags
    for flag in (
        ("--lr", "inf"),
        ("--lr", "nan"),
        ("--lr", "-1"),
        ("--lr", "1e30"),
        ("--epochs", "0"),
        ("--accelerator", "gpu"),
        ("--accelerator", "cuda"),
        ("--accelerator", "foo"),
        ("--devices", "0"),
        ("--devices", "abc"),
        ("--strategy", "foo"),
        ("--threads", "0"),
        ("--batch-size", "0"),
        ("--pool", "nope"),
        ("--channels", "-3"),
        ("--dropout", "1"),
    ):
        cases.append((f"flag {' '.join(flag)}", ["train", "synthetic:peaks", "--out", str(tmp / "o"), *TINY, *flag]))
    cases.append(("flag --epochs abc", ["train", "synthetic:peaks", "--out", str(tmp / "o"), "--epochs", "abc"]))
    cases.append(("train without DATA", ["train", "--out", str(tmp / "o")]))
    cases.append(("--resume and --overwrite", ["train", "--out", str(good), "--resume", "--overwrite"]))
    cases.append(("--resume a finished run", ["train", "--out", str(good), "--resume"]))
    cases.append(("--resume an empty folder", ["train", "--out", str(tmp / "emptydir"), "--resume"]))
    # -- file system
    (tmp / "afile").write_text("x")
    (tmp / "emptydir").mkdir(exist_ok=True)
    cases += [
        ("train --out afile/sub", ["train", "synthetic:peaks", "--out", str(tmp / "afile" / "sub"), *TINY]),
        ("train --out a file", ["train", "synthetic:peaks", "--out", str(tmp / "afile"), *TINY]),
        ("train --out /proc/x", ["train", "synthetic:peaks", "--out", "/proc/attnpool_x", *TINY]),
        ("train --out a finished run", ["train", "synthetic:peaks", "--out", str(good), *TINY]),
        ("predict --out a directory", ["predict", str(good), "synthetic:peaks", "--out", str(tmp / "emptydir")]),
        ("predict --out afile/sub.csv", ["predict", str(good), "synthetic:peaks", "--out", str(tmp / "afile" / "p.csv")]),
        ("predict --out /proc/x.csv", ["predict", str(good), "synthetic:peaks", "--out", "/proc/attnpool_x.csv"]),
        ("explain --out afile", ["explain", str(good), "--out", str(tmp / "afile")]),
        ("explain --out afile/sub", ["explain", str(good), "--out", str(tmp / "afile" / "sub")]),
        ("explain --samples 999", ["explain", str(good), "--out", str(tmp / "ex"), "--samples", "999"]),
        ("explain --samples a,b", ["explain", str(good), "--out", str(tmp / "ex"), "--samples", "a,b"]),
        ("compare --pools nope", ["compare", "synthetic:peaks", "--pools", "nope", "--out", str(tmp / "cmp"), *TINY]),
        ("compare --seeds 0", ["compare", "synthetic:peaks", "--seeds", "0", "--out", str(tmp / "cmp"), *TINY]),
        (
            "compare --out afile/sub",
            ["compare", "synthetic:peaks", "--pools", "mean", "--seeds", "1", "--out", str(tmp / "afile" / "sub"), *TINY],
        ),
    ]
    # -- hostile run directories
    for name, mutate in (
        ("empty model.pt", lambda d: (d / "model.pt").write_bytes(b"")),
        ("truncated model.pt", lambda d: (d / "model.pt").write_bytes((good / "model.pt").read_bytes()[:500])),
        ("garbage model.pt", lambda d: (d / "model.pt").write_bytes(b"not a model")),
        ("model.pt a dict of junk", lambda d: __import__("torch").save({"a": 1}, d / "model.pt")),
        ("no metrics.json", lambda d: (d / "metrics.json").unlink()),
        ("INCOMPLETE marker", lambda d: (d / "INCOMPLETE").write_text("")),
        ("config.json junk", lambda d: (d / "config.json").write_text("{")),
        ("config.json bad type", lambda d: (d / "config.json").write_text('{"epochs": true}')),
        ("no config.json", lambda d: (d / "config.json").unlink()),
    ):
        run = tmp / ("run_" + name.replace(" ", "_").replace(".", "_"))
        copy_run(good, run)
        mutate(run)
        cases.append((f"run with {name}: evaluate", ["evaluate", str(run)]))
        cases.append((f"run with {name}: predict", ["predict", str(run), "synthetic:peaks", "--out", str(tmp / "p.csv")]))
        cases.append((f"run with {name}: explain", ["explain", str(run), "--out", str(tmp / "ex")]))
    cases += [
        ("evaluate a missing run", ["evaluate", str(tmp / "nope")]),
        ("evaluate a file", ["evaluate", str(tmp / "afile")]),
        ("evaluate an empty dir", ["evaluate", str(tmp / "emptydir")]),
        ("evaluate regress run on classify data", ["evaluate", str(reg), "synthetic:peaks"]),
        ("predict wrong N", ["predict", str(good), npz("n3"), "--out", str(tmp / "p.csv")]),
    ]
    return cases


def copy_run(src: Path, dst: Path) -> None:
    import shutil

    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)


def prepare(tmp: Path) -> None:
    from attnpool.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", "synthetic:peaks", "--out", str(tmp / "good_run"), *TINY]) == 0
        rng = np.random.default_rng(1)
        x = rng.normal(size=(60, 7, 30, 1))
        np.savez(tmp / "reg.npz", x=x, y=x.mean(axis=(1, 2, 3))[:, None])
        assert main(["train", str(tmp / "reg.npz"), "--out", str(tmp / "reg_run"), *TINY[2:]]) == 0


def run_case(argv: list[str], timeout: float, use_subprocess: bool) -> tuple[int | None, str, str]:
    """``(exit code or None on a hang, stderr, outcome-of-traceback "tb" or "")``."""
    if use_subprocess:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        try:
            proc = subprocess.run([sys.executable, "-m", "attnpool", *argv], capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return None, "", ""
        return proc.returncode, proc.stderr, "tb" if "Traceback (most recent call last)" in proc.stderr else ""
    from attnpool.cli import main

    err = io.StringIO()

    def _alarm(signum, frame):
        raise Hang()

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(timeout))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(argv)
        return code, err.getvalue(), ""
    except Hang:
        return None, err.getvalue(), ""
    except SystemExit as exit_:  # argparse: usage + one error line, exit 2
        return int(exit_.code or 0), err.getvalue(), ""
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - an escaped exception is the traceback a user would see
        return 1, err.getvalue() + traceback.format_exc(), "tb"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_NAN = re.compile(r"\b(nan|NaN|inf|Infinity)\b")


def snapshot(tmp: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in tmp.rglob("*") if p.is_file()}


def written_nan(tmp: Path, before: dict) -> list[str]:
    """Output files (CSV, JSON) a case wrote (new or changed since ``before``) that hold NaN or inf."""
    bad = []
    for path, mtime in snapshot(tmp).items():
        if path.suffix in (".csv", ".json") and before.get(path) != mtime and "logs" not in path.parts:
            if _NAN.search(path.read_text(errors="ignore")):
                bad.append(str(path.relative_to(tmp)))
    return bad


def classify(name: str, code: int | None, stderr: str, tb: str, nan_files: list[str]) -> str:
    """The outcome of one case: "one-line error", "traceback", "silent (exit 0 or NaN written)", "hang" or "other"."""
    ours = [line for line in stderr.splitlines() if line.startswith("attnpool:") or line.startswith("usage:")]
    if code is None:
        return "hang"
    if tb:
        return "traceback"
    if code == 0 and not nan_files and "3e38" in name:  # finite float32 input: a finite answer is fine
        return "one-line error"
    if code == 0 or nan_files:
        return "silent (exit 0 or NaN written)"
    if code == 2 and (len([ln for ln in ours if ln.startswith("attnpool:")]) == 1 or any(ln.startswith("usage:") for ln in ours)):
        return "one-line error"
    return "other"


def run_cases(tmp: Path, cases: list[tuple[str, list[str]]], timeout: float = 120, use_subprocess: bool = False):
    """Run ``cases`` (each from a clean ``tmp``); yield ``(name, exit code, outcome, first message line, stderr)``."""
    import shutil

    for name, argv in cases:
        for leftover in ("o", "p.csv", "ex", "cmp"):
            path = tmp / leftover
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        before = snapshot(tmp)
        code, stderr, tb = run_case(argv, timeout, use_subprocess)
        outcome = classify(name, code, stderr, tb, written_nan(tmp, before))
        message = next((ln for ln in stderr.splitlines() if ln.startswith("attnpool:")), "")
        if not message:
            tail = stderr.strip().splitlines()
            message = tail[-1] if tail else ""
        yield name, code, outcome, message, stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subprocess", action="store_true", help="run each case as `python -m attnpool`")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--out", default=None, help="also write the table and every case's outcome here (markdown)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    import warnings

    warnings.filterwarnings("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="attnpool-campaign-"))
    start = time.perf_counter()
    prepare(tmp)
    cases = build_cases(tmp)
    counts = {"one-line error": 0, "traceback": 0, "silent (exit 0 or NaN written)": 0, "hang": 0, "other": 0}
    lines = []
    for name, code, outcome, message, stderr in run_cases(tmp, cases, args.timeout, args.subprocess):
        counts[outcome] += 1
        lines.append(f"| {name} | {code} | {outcome} | {message[:160].replace('|', '/')} |")
        if args.verbose or outcome != "one-line error":
            print(f"{outcome:32s} {code}  {name}: {message[:200]}")
            if outcome == "traceback":
                print(stderr[-1500:])
    seconds = time.perf_counter() - start
    table = [
        "| inputs tried | one-line errors | tracebacks | exit 0 with NaN or wrong output | hangs | other |",
        "|---|---|---|---|---|---|",
        f"| {len(cases)} | {counts['one-line error']} | {counts['traceback']} | {counts['silent (exit 0 or NaN written)']} | "
        f"{counts['hang']} | {counts['other']} |",
    ]
    print("\n".join(table))
    print(f"({seconds:.0f} s, {'subprocess' if args.subprocess else 'in-process'} cases)")
    if args.out:
        Path(args.out).write_text(
            "\n".join(table) + "\n\n| case | exit | outcome | stderr |\n|---|---|---|---|\n" + "\n".join(lines) + "\n"
        )
    return 0 if counts["one-line error"] == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
