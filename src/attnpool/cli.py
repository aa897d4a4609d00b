"""The ``attnpool`` command: ``attnpool <verb> ...``, a thin layer over :mod:`attnpool.workflow`.

An error in what the user gave (the project's own :class:`~attnpool.errors.AttnpoolError`: a bad option, file,
shape or run directory) exits 2 with one line on stderr (``attnpool: error: ...``). Any other exception is a
bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from .errors import AttnpoolError, ConfigError, Interrupted, RunError
from .models import ENCODERS, MIXERS
from .pooling import POOLS
from .tasks import TASKS
from .train.config import TrainConfig


class UserError(AttnpoolError):
    """An error in the command line itself (a flag's format): shown as one line, exit code 2."""


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count (default: 1, or $ATTNPOOL_THREADS). On a 2-core machine torch's default
    fights any other busy process (an epoch measured 6x slower with 2 threads beside another job than with 1)."""
    import torch

    if threads is None:
        threads = int(os.environ.get("ATTNPOOL_THREADS", "1"))
    if threads < 1:
        raise ConfigError(f"threads must be >= 1, got {threads}", key="threads")
    torch.set_num_threads(threads)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="attnpool", description="Attention pooling over time for multi-node time series.")
    parser.add_argument("--version", action="version", version=f"attnpool {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True

    demo = sub.add_parser("demo", help="the spec's walkthrough, then the main job: train attention vs mean pooling")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--walkthrough-only", action="store_true", help="only replay the spec's walkthrough")
    _add_threads(demo)
    demo.add_argument("--out", default=None, help="directory for the demo's runs (default: runs/demo)")
    demo.set_defaults(func=_cmd_demo)

    train = sub.add_parser("train", help="train a model on DATA and write a run directory")
    train.add_argument("data", nargs="?", default=None,
                       help="a .npz or .csv file, uea:<Name>, or synthetic:peaks (default: the --config's data)")
    train.add_argument("--out", required=True, help="run directory to create (config, checkpoints, logs, metrics)")
    train.add_argument("--config", default=None, help="a config.json/.yaml (e.g. an earlier run's); flags override it")
    train.add_argument("--overwrite", action="store_true", help="allow --out to hold an earlier run")
    train.add_argument("--resume", action="store_true",
                       help="continue the unfinished (killed or interrupted) run in --out from its last checkpoint, "
                            "with its own config.json (options given again must match it)")
    _add_train_options(train)
    train.set_defaults(func=_cmd_train)

    evaluate = sub.add_parser("evaluate", help="metrics of a finished run (its val/test splits, or all of DATA)")
    evaluate.add_argument("run", help="run directory written by 'attnpool train'")
    evaluate.add_argument("data", nargs="?", default=None, help="data to evaluate on (default: the run's own splits)")
    _add_threads(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    predict = sub.add_parser("predict", help="predictions and each node's step of maximum attention, as CSV")
    predict.add_argument("run", help="run directory written by 'attnpool train'")
    predict.add_argument("data", help="data to predict on")
    predict.add_argument("--out", required=True, help="CSV file to write")
    predict.add_argument("--engine", choices=("torch", "onnx"), default="torch",
                         help="run the model in PyTorch, or its ONNX export in onnxruntime (RUN/model.onnx when it "
                              "is up to date, else a fresh export; needs the export extra) (default: torch)")
    _add_threads(predict)
    predict.set_defaults(func=_cmd_predict)

    export = sub.add_parser("export", help="write the run's model as ONNX or TorchScript, checked against PyTorch")
    export.add_argument("run", help="run directory written by 'attnpool train'")
    export.add_argument("--format", choices=("onnx", "torchscript"), default="onnx", help="file format (default: onnx)")
    export.add_argument("--out", default=None, help="file to write (default: RUN/model.onnx or RUN/model.torchscript.pt)")
    export.add_argument("--legacy", action="store_true",
                        help="ONNX: the TorchScript-based exporter (under a second) instead of torch.export (~10 s)")
    _add_threads(export)
    export.set_defaults(func=_cmd_export)
    explain = sub.add_parser("explain", help="figures and statistics of what a run's attention looked at")
    explain.add_argument("run", help="run directory written by 'attnpool train'")
    explain.add_argument("data", nargs="?", default=None, help="data to explain (default: the run's test split)")
    explain.add_argument("--out", required=True, help="folder for the PNG figures and CSVs")
    explain.add_argument("--samples", default=None, help="comma-separated sample positions to draw (default: a few per "
                                                          "class, or the largest errors)")
    explain.add_argument("--per-class", type=int, default=2, help="samples drawn per class (default: 2)")
    _add_threads(explain)
    explain.set_defaults(func=_cmd_explain)

    compare = sub.add_parser("compare", help="train several poolings with the same budget and seeds (the poolings "
                             "alone: no distribution summary head unless --distribution K); a table and chart")
    compare.add_argument("data", nargs="?", default=None, help="a .npz or .csv file, uea:<Name>, or synthetic:peaks")
    compare.add_argument("--pools", default=",".join(POOLS),
                         help=f"comma-separated poolings (default: all {len(POOLS)}: {','.join(POOLS)})")
    compare.add_argument("--seeds", type=int, default=5, help="seeds per pooling (default: 5)")
    compare.add_argument("--out", required=True, help="folder for compare.md/.csv/.png and the runs")
    compare.add_argument("--config", default=None, help="a config file for the shared training options")
    _add_train_options(compare)
    compare.set_defaults(func=_cmd_compare)
    return parser


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: 1, or $ATTNPOOL_THREADS); on small machines more threads "
                             "fight any other busy process")


# Flags that override TrainConfig fields; None means "not given" (keep the config's value). The help text's
# "(default: ...)" is read off TrainConfig, so the two cannot disagree.
_TRAIN_FLAGS = [
    ("--task", str, f"{' | '.join(TASKS)} (default: inferred from the data)"),
    ("--pool", str, " | ".join(POOLS)),
    ("--encoder", str, " | ".join(ENCODERS)),
    ("--mixer", str, " | ".join(MIXERS)),
    ("--channels", int, "C, the encoder's width"),
    ("--stride", int, "resconv's stem stride (default: the rule, 2 when ceil(T / 2) >= 100, else 1)"),
    ("--distribution", "auto_int", "classify: K thresholds of a second head on the order-free summary of each series "
                                   "(the fraction of steps above each, for the values and their dilated differences), "
                                   "mixed into the prediction; 0 = no such head; K: at a share of 0.5; auto: K = 33 "
                                   "at the share (0-0.75) with the least calibrated log loss on the probe's held-out "
                                   "folds, none where that share is 0"),
    ("--steps", int, "optimizer steps instead of the rule (default: >= 300 steps and >= 100 epochs within a work "
                     "budget, see docs/training.md; epochs = ceil(steps / batches per epoch))"),
    ("--epochs", int, "train exactly this many epochs instead of --steps (the option before issue 9)"),
    ("--batch-size", int, "batch size (default: a rule on the data's size: 16 up to 4,096 training samples, then about "
                          "256 batches per epoch, fewer samples per batch for many nodes; docs/training.md)"),
    ("--limit-batches", int, "at most N batches per epoch, in validation and in the final evaluation (quick trials "
                             "on big data; default: all)"),
    ("--lr", float, "learning rate"),
    ("--weight-decay", float, "AdamW weight decay"),
    ("--dropout", float, "dropout"),
    ("--patience", int, "ignored: training does not stop early since issue 9 (kept so older scripts run)"),
    ("--ensemble", "auto_int", "K models from seeds seed..seed+K-1, probabilities (values) and attention weights "
                               "averaged; auto: K = 1 to 3, as many as fit the work budget"),
    ("--augment", str, "auto (classify: scale,jitter,mixup and, on unpadded series of >= 128 steps, shift, unless "
                       "a short probe on the train part finds shift and mixup clearly hurt; regress/forecast: none) | "
                       "none | a comma-separated list of scale, jitter, shift, mixup (no probe)"),
    ("--ema", float, "decay of the weights' moving average, which is the saved model; 0 = the last weights"),
    ("--label-smoothing", float, "classify: label smoothing"),
    ("--seed", int, "random seed"),
    ("--window", int, "CSV: steps per window T"),
    ("--horizon", int, "CSV: steps to forecast H"),
    ("--season", int, "forecast: the season in steps of the seasonal-naive baseline (e.g. 288 for a day of 5-minute "
                      "steps); 0 = none (default: found from a datetime time column, one day)"),
    ("--nodes", str, "UEA: channels per node ('2' = 2 nodes) or groups ('0,1,2|3,4,5'); default: one node per channel"),
    ("--accelerator", str, "Lightning accelerator"),
    ("--devices", str, "Lightning devices"),
    ("--strategy", str, "Lightning strategy, e.g. ddp"),
    ("--num-nodes", int, "machines of a multi-node run (Lightning's num_nodes; launch one process per device on "
                         "each machine, docs/training.md)"),
]
_DEFAULTS = TrainConfig()


def _flag_help(flag: str, text: str) -> str:
    value = getattr(_DEFAULTS, _field(flag))
    return text if value is None or "default:" in text else f"{text} (default: {value})"


def _field(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _auto_int(text: str):
    """``--ensemble``, ``--distribution``: ``auto`` or a count."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or an int, got {text!r}") from None


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    for flag, kind, text in _TRAIN_FLAGS:
        kind = _auto_int if kind == "auto_int" else kind
        parser.add_argument(flag, type=kind, default=None, help=_flag_help(flag, text))
    parser.add_argument("--data-option", action="append", default=[], metavar="KEY=VALUE",
                        help="extra option for the data reader, e.g. samples=600 (repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_threads(parser)


def config_from_args(args) -> TrainConfig:
    """TrainConfig from defaults < --config file < flags given on the command line (checked later, by ``fit``)."""
    cfg = TrainConfig.load(args.config) if getattr(args, "config", None) else TrainConfig()
    changes: dict = {}
    if getattr(args, "data", None):
        changes["data"] = args.data
    elif not getattr(args, "config", None):
        raise UserError("DATA is required (a .npz/.csv file, uea:<Name> or synthetic:peaks) unless --config gives it")
    for flag, _, _ in _TRAIN_FLAGS:
        value = getattr(args, _field(flag), None)
        if value is not None:
            changes[_field(flag)] = value
    # A config's data_options that is not a mapping is left as it is, for validate() to name.
    data_options = dict(cfg.data_options) if isinstance(cfg.data_options, dict) else cfg.data_options
    for item in getattr(args, "data_option", []) or []:
        if not isinstance(data_options, dict):
            break
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--data-option must be KEY=VALUE, got {item!r}")
        data_options[key] = _parse_value(value)
    changes["data_options"] = data_options
    if getattr(args, "threads", None) is not None:
        changes["threads"] = args.threads
    if getattr(args, "no_progress", False):
        changes["progress"] = False
    return dataclasses.replace(cfg, **changes)


def _parse_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _cmd_train(args) -> int:
    try:
        return _train(args)
    except (Interrupted, RuntimeError) as caught:
        err = _interruption_in(caught)
        if err is None:
            raise
        # fit says what it kept once the run directory exists; before that (data loading), nothing was written.
        err.kept = err.kept or f"nothing was written to {args.out}; run the same command again"
        raise err from None


def _train(args) -> int:
    if args.resume:
        if args.overwrite:
            raise UserError("--resume continues the run in --out and --overwrite replaces it: give one of them")
        if not args.config:
            # The run's own config.json is the base, so `attnpool train --out RUN --resume` needs nothing else;
            # options given again are compared with it by fit.
            saved = os.path.join(args.out, "config.json")
            if not os.path.isfile(saved):
                raise RunError(f"--resume: {args.out} holds no started run (no config.json); train without --resume")
            args.config = saved
    cfg = config_from_args(args)
    set_threads(cfg.threads)
    from .workflow import fit

    result = fit(cfg, args.out, overwrite=args.overwrite, resume=args.resume)
    if result.model is not None:
        print(f"data: {result.data.summary()}")
        resolved = json.loads((Path(result.run_dir) / "config.json").read_text()).get("resolved", {})
        _print_log_scale(resolved)
        _print_probe(resolved)
        _print_metrics(result.metrics)
        print(f"run directory: {result.run_dir}")
    return 0


def _print_log_scale(resolved: dict) -> None:
    """One line naming the features the model reads on a log scale (``resolved``: config.json's ``resolved``
    part, its ``log_scale``), if any."""
    scaled = resolved.get("log_scale")
    if scaled:
        named = ", ".join(f"{s['node']}/{s['feature']} (s = {s['scale']:.3g})" for s in scaled[:5])
        more = f" and {len(scaled) - 5} more" if len(scaled) > 5 else ""
        print(f"inputs read as log1p(x / s) (non-negative, heavy-tailed): {named}{more}")


def _print_probe(resolved: dict) -> None:
    """One line on the augmentation probe, where the run had one (``resolved``: config.json's ``resolved`` part,
    its ``schedule.augment_probe``)."""
    schedule = resolved.get("schedule", {})
    probe = schedule.get("augment_probe")
    if probe:
        scores = ", ".join(f"{name} {acc:.3f}" for name, acc in probe["accuracy"].items())
        line = (f"probe ({probe['folds']} folds of the train part, held-out accuracy): network {scores} -> trained "
                f"with {','.join(schedule['augment']) or 'none'}")
        summary = probe.get("summary_accuracy", {}).get(probe["chosen"])
        if summary is not None:
            line += f"; distribution summary head {summary:.3f} -> {_summary_choice(probe)}"
        print(line)


def _summary_choice(probe: dict) -> str:
    """What the probe did with the summary head: its share of the prediction, or left out (``probe``: the record
    in config.json, read as :meth:`ProbeResult.from_dict` reads it, older records included)."""
    from .workflow.augment_probe import ProbeResult

    result = ProbeResult.from_dict(probe)
    return f"mixed in at {result.summary_weight:.2f}" if result.distribution else "left out"


def _cmd_evaluate(args) -> int:
    set_threads(args.threads)
    from .workflow import evaluate_run

    metrics = evaluate_run(args.run, args.data)
    _print_metrics(metrics)
    return 0


def _cmd_predict(args) -> int:
    set_threads(args.threads)
    from .workflow import predict_run

    path = predict_run(args.run, args.data, args.out, engine=args.engine)
    print(f"predictions written to {path}" + (" (onnxruntime)" if args.engine == "onnx" else ""))
    return 0


def _cmd_export(args) -> int:
    set_threads(args.threads)
    from .export import export_run

    result = export_run(args.run, args.format, args.out, dynamo=not args.legacy)
    S, N, T, F = result.check_shape
    print(f"wrote {result.path} ({result.format}): inputs x [S, {N}, T, {F}] float32, mask [S, {N}, T] bool; "
          f"outputs output, weights [S, {N}, T]")
    print(f"checked against PyTorch at x [{S}, {N}, {T}, {F}] with masked steps: "
          f"max difference {result.max_difference:.3g}")
    return 0


def _cmd_explain(args) -> int:
    set_threads(args.threads)
    from .workflow import explain_run

    samples = None
    if args.samples:
        try:
            samples = [int(s) for s in args.samples.split(",") if s.strip()]
        except ValueError:
            raise UserError(f"--samples must be comma-separated integers, got {args.samples!r}") from None
    out = explain_run(args.run, args.data, args.out, samples=samples, per_class=args.per_class)
    summary = out["summary"]
    print(f"{len(out['figures'])} figures, weights.csv and stats.csv written to {args.out}")
    print("  " + "  ".join(f"{k} {v:.4f}" for k, v in summary.items() if isinstance(v, float)))
    return 0


def _cmd_compare(args) -> int:
    cfg = config_from_args(args)
    set_threads(cfg.threads)
    from .workflow import compare_pools

    pools = [p.strip() for p in args.pools.split(",") if p.strip()]

    command = "attnpool compare " + " ".join(_quote(a) for a in args.raw_argv)
    out = compare_pools(cfg, pools, args.seeds, args.out, command=command)
    print(out["paths"]["md"].read_text())
    print(f"table, CSV and chart in {args.out}")
    return 0


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _print_metrics(metrics: dict) -> None:
    for split in ("val", "test", "all"):
        if split in metrics:
            values = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics[split].items())
            print(f"{split:5s} {values}")


def _cmd_demo(args) -> int:
    set_threads(args.threads)
    from .walkthrough import walkthrough

    walkthrough(seed=args.seed)
    if args.walkthrough_only:
        return 0
    from .demo import main_job

    main_job(out=args.out, seed=args.seed, threads=args.threads or 1)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.raw_argv = list(argv if argv is not None else sys.argv[1:])[1:]
    debug = bool(os.environ.get("ATTNPOOL_DEBUG"))
    previous = _catch_signals()
    try:
        return int(args.func(args) or 0)
    except (Interrupted, RuntimeError) as caught:
        err = _interruption_in(caught)
        if err is None:
            raise
        # 128 + the signal's number, as a shell reports a process the signal ended: 130 SIGINT, 143 SIGTERM.
        kept = err.kept or "nothing half-written was left (outputs are written in one step)"
        print(f"attnpool: interrupted by {err}; {kept}", file=sys.stderr)
        return 128 + err.signum
    except AttnpoolError as err:
        # Our own errors carry a message written for the user; anything else is a bug and keeps its traceback.
        if debug:
            raise
        print(f"attnpool: error: {_as_flags(err)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        if debug:
            raise
        print(f"attnpool: error: {missing_extra(err)}", file=sys.stderr)
        return 2
    except OSError as err:
        # The file system said no (missing parent, a file where a folder should be, read-only, disk full): the
        # user's environment, not a bug; one line naming the path. atomic_write has removed its temporary file.
        if debug:
            raise
        print(f"attnpool: error: {_os_error(err)}", file=sys.stderr)
        return 2
    finally:
        _restore_signals(previous)


def _interruption_in(err: BaseException) -> Interrupted | None:
    """``err`` if it is the :class:`Interrupted` a signal raised, or the one it was raised from (its ``__cause__`` or
    ``__context__`` chain), else None. A signal that lands while a class is being created (the lazy import of the
    training code) arrives wrapped: Python 3.11 turns what ``__set_name__`` raised into a RuntimeError."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, Interrupted):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def _catch_signals() -> dict:
    """SIGINT and SIGTERM raise :class:`Interrupted` (a BaseException) wherever the program is, so that neither
    Lightning (which turns KeyboardInterrupt into exit 1, and SIGTERM into exit 0) nor an ``except Exception``
    swallows them, and the run directory is left marked for ``--resume``. Only in the main thread (signals
    cannot be set elsewhere, e.g. when ``main`` is called from a test's worker thread)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def _raise(signum, frame):
        # A second signal during the clean-up must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Interrupted(signum)

    return {signum: signal.signal(signum, _raise) for signum in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(previous: dict) -> None:
    import signal

    for signum, handler in previous.items():
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _os_error(err: OSError) -> str:
    """``OSError`` as one line naming the path: ``cannot write runs/x/model.pt: No space left on device``."""
    reason = err.strerror or _one_line(err)
    path = err.filename
    if path is None:
        return reason
    path = os.fspath(path)
    # atomic_write's temporary file is an internal name: say the file the user asked for.
    base, sep, _ = str(path).rpartition(".tmp-")
    if sep:
        path = base
    target = f" -> {os.fspath(err.filename2)}" if err.filename2 is not None and not sep else ""
    return f"{path}{target}: {reason}"


#: The extra that installs each optional dependency (pyproject.toml's optional-dependencies).
EXTRAS = {"lightning": "train", "pytorch_lightning": "train", "yaml": "train", "aeon": "data", "matplotlib": "plot",
          "onnx": "export", "onnxscript": "export", "onnxruntime": "export", "triton": "triton"}


def missing_extra(err: ModuleNotFoundError) -> str:
    """One line for a missing optional dependency, with the pip command of the extra that installs it."""
    top = (err.name or "").split(".")[0]
    text = _one_line(err)
    if "pip install" in text:
        return text
    if top in EXTRAS:
        return f"{top} is not installed: pip install 'attnpool[{EXTRAS[top]}]'"
    return f"{text}; install the extra that provides it, e.g. pip install 'attnpool[train,data,plot]'"


def _as_flags(err: AttnpoolError) -> str:
    """The message in the command line's words: a config key named first becomes its flag (``--batch-size``)."""
    text = _one_line(err)
    key = getattr(err, "key", None)
    if key and text.startswith(key + " "):
        text = "--" + key.replace("_", "-") + text[len(key):]
    return text


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
