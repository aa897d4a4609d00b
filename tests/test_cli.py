"""train -> evaluate -> predict through the command line, on tiny data; errors are one line, data is kept."""

import csv
import json
import os

import numpy as np
import pytest

from .cli_helpers import TINY, attnpool


def test_train_writes_a_complete_run_directory(tiny_run):
    run, proc = tiny_run
    assert "test" in proc.stdout and "run directory" in proc.stdout
    metrics = json.loads((run / "metrics.json").read_text())
    for split in ("val", "test"):
        assert set(metrics[split]) >= {"accuracy", "macro_f1"}
        assert 0.0 <= metrics[split]["accuracy"] <= 1.0
    config = json.loads((run / "config.json").read_text())
    assert config["pool"] == "attention-mean" and config["encoder"] == "linear" and config["task"] == "classify"
    # no checkpoint is chosen on validation: the last one holds the saved (EMA) weights and what --resume needs
    assert (run / "checkpoints" / "last.ckpt").is_file() and not (run / "checkpoints" / "best.ckpt").exists()
    assert (run / "model.pt").is_file()
    assert list((run / "logs").rglob("metrics.csv"))


def test_relative_run_directory(tmp_path):
    proc = attnpool("train", "synthetic:peaks", "--out", "runs/rel", "--encoder", "linear", "--data-option",
                    "samples=140", "--epochs", "1", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "runs" / "rel" / "metrics.json").read_text())
    assert metrics["best_checkpoint"] == os.path.join("checkpoints", "last.ckpt")


def test_evaluate_reproduces_the_saved_metrics(tiny_run):
    run, _ = tiny_run
    proc = attnpool("evaluate", run, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((run / "metrics.json").read_text())
    line = next(text for text in proc.stdout.splitlines() if text.startswith("test"))
    assert f"accuracy {saved['test']['accuracy']:.4f}" in line


def test_predict_writes_predictions_and_attention_steps(tiny_run, tmp_path):
    run, _ = tiny_run
    out = tmp_path / "pred.csv"
    proc = attnpool("predict", run, "synthetic:peaks", "--out", out, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows
    steps = [k for k in rows[0] if k.startswith("max_attention_step_")]
    assert len(steps) == 7
    assert all(0 <= int(r[k]) < 30 for r in rows for k in steps)
    probs = [k for k in rows[0] if k.startswith("p_")]
    assert abs(sum(float(rows[0][k]) for k in probs) - 1) < 1e-4


def test_config_reuse_gives_the_same_resolved_config(tiny_run, tmp_path):
    run, _ = tiny_run
    again = tmp_path / "again"
    proc = attnpool("train", "--config", run / "config.json", "--out", again, "--epochs", "1", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    first = json.loads((run / "config.json").read_text())
    second = json.loads((again / "config.json").read_text())
    first.pop("epochs"), second.pop("epochs")
    # the schedule follows the epochs given; everything else (model, members, data) is the same
    first_schedule, second_schedule = first["resolved"].pop("schedule"), second["resolved"].pop("schedule")
    assert (first_schedule["epochs"], second_schedule["epochs"]) == (3, 1)
    # the probe's choice of the summary head comes from short models of the run's steps: it may differ too
    for saved, schedule in ((first, first_schedule), (second, second_schedule)):
        probe, model = schedule["augment_probe"], saved["resolved"]["model"]
        assert model.pop("distribution") == probe["distribution"]
        assert model.pop("summary_weight", 0.0) == probe["summary_weight"]
    assert first == second


def test_existing_run_is_not_overwritten(tiny_run):
    run, _ = tiny_run
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    proc = attnpool("train", "synthetic:peaks", "--out", run, *TINY)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "already holds a finished run" in proc.stderr
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "synthetic:peaks", "--out", "{tmp}/r", "--pool", "median"], "--pool must be one of"),
        (["train", "{tmp}/missing.npz", "--out", "{tmp}/r"], "missing.npz"),
        (["train", "synthetic:peaks", "--out", "{tmp}/r", "--data-option", "samples"], "--data-option must be KEY=VALUE"),
        (["train", "synthetic:peaks", "--out", "{tmp}/r", "--epochs", "0"], "--epochs must be >= 1"),
        (["evaluate", "{tmp}/nowhere"], "run directory"),
        (["train", "uea:NoSuchSet", "--out", "{tmp}/r"], "NoSuchSet"),
    ],
)
def test_bad_input_is_one_line_without_traceback(args, message, tmp_path):
    proc = attnpool(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message in proc.stderr


def test_corrupt_npz_is_one_line_and_left_intact(tmp_path):
    path = tmp_path / "broken.npz"
    buf = tmp_path / "ok.npz"
    np.savez(buf, x=np.zeros((20, 2, 5, 1), np.float32), y=np.zeros(20, np.int64))
    path.write_bytes(buf.read_bytes()[:100])
    before = path.read_bytes()
    proc = attnpool("train", path, "--out", tmp_path / "r")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "broken.npz" in proc.stderr
    assert path.read_bytes() == before


def test_own_errors_are_one_line_with_flag_names_and_bugs_keep_their_traceback(monkeypatch, capsys):
    from attnpool import cli
    from attnpool.errors import ConfigError

    def bad_option(args):
        raise ConfigError("batch_size must be >= 1, got 0", key="batch_size")

    def bug(args):
        raise KeyError("a bug, not bad input")

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), bad_option))
    assert cli.main(["evaluate", "somewhere"]) == 2
    assert capsys.readouterr().err == "attnpool: error: --batch-size must be >= 1, got 0\n"
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), bug))
    with pytest.raises(KeyError, match="a bug"):
        cli.main(["evaluate", "somewhere"])


def _with_func(parser, func):
    for action in parser._subparsers._group_actions:
        action.choices["evaluate"].set_defaults(func=func)
    return parser


def test_help_defaults_come_from_train_config():
    from attnpool.cli import build_parser
    from attnpool.train import TrainConfig

    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    text = " ".join(text.split())  # argparse wraps the help lines
    defaults = TrainConfig()
    assert "(default: >= 300 steps and >= 100 epochs" in text and f"(default: {defaults.num_nodes})" in text
    assert "(default: a rule on the data's size" in text and defaults.batch_size is None  # None = the rule, in words
    assert f"(default: {defaults.ensemble})" in text and defaults.ensemble == "auto"
    assert f"(default: {defaults.pool})" in text and f"(default: {defaults.lr})" in text


def test_pool_spelled_as_make_pool_accepts_it(tmp_path):
    proc = attnpool("train", "synthetic:peaks", "--out", tmp_path / "r", "--pool", "multi-head", "--channels", "30",
                    "--encoder", "linear", *TINY)
    # Accepted as a name; refused for the contradiction (4 heads do not divide 30 channels), naming both.
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "must be one of" not in proc.stderr and "divisible by heads" in proc.stderr
    assert "pool 'multi-head' with channels=30" in proc.stderr


def test_a_signal_while_a_class_is_created_still_exits_130_with_one_line(monkeypatch, capsys):
    """A Ctrl-C that lands while the lazily imported training code defines its dataclasses reaches ``main`` as
    the RuntimeError Python 3.11 wraps around what ``__set_name__`` raised; it is still the interruption
    (seen in ``test_sigint_during_data_load``, which sends SIGINT as soon as the handler is installed)."""
    import signal

    from attnpool import cli
    from attnpool.errors import Interrupted

    class Field:
        def __set_name__(self, owner, name):
            raise Interrupted(signal.SIGINT)  # what the signal handler raises wherever the program is

    def while_importing(args):
        type("LateClass", (), {"field": Field()})

    monkeypatch.setattr(cli, "_cmd_evaluate", while_importing)
    assert cli.main(["evaluate", "somewhere"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("attnpool: interrupted by SIGINT;")

    # during `attnpool train`'s data loading: its own message (nothing written, run it again)
    monkeypatch.setattr(cli, "_train", while_importing)
    assert cli.main(["train", "synthetic:peaks", "--out", "nowhere"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted by SIGINT; nothing was written to nowhere; run the same command" in err

    def bug(args):
        raise RuntimeError("a real bug")

    monkeypatch.setattr(cli, "_cmd_evaluate", bug)
    with pytest.raises(RuntimeError, match="a real bug"):  # any other RuntimeError keeps its traceback
        cli.main(["evaluate", "somewhere"])
