"""The command line's export, predict --engine, --version and missing-extra messages."""

import csv
import sys

import numpy as np
import pytest

import attnpool
from attnpool.cli import main, missing_extra

from .cli_helpers import attnpool as run_cli

pytest.importorskip("onnxruntime")


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"attnpool {attnpool.__version__}"


def test_export_then_predict_with_onnxruntime_matches_torch(classify_run, tmp_path, capsys):
    proc = run_cli("export", classify_run, "--format", "onnx", "--legacy")  # the installed command; RUN/model.onnx
    assert proc.returncode == 0, proc.stderr
    assert "max difference" in proc.stdout and (classify_run / "model.onnx").is_file()
    rows = {}
    for engine in ("torch", "onnx"):  # onnx: runs RUN/model.onnx, now newer than model.pt
        out = tmp_path / f"{engine}.csv"
        assert main(["predict", str(classify_run), "synthetic:peaks", "--out", str(out), "--engine", engine]) == 0
        with out.open() as handle:
            rows[engine] = list(csv.reader(handle))
    assert rows["torch"][0] == rows["onnx"][0] and len(rows["torch"]) == 61  # the run's 60 samples
    for a, b in zip(rows["torch"][1:], rows["onnx"][1:]):
        assert a[1] == b[1]  # the predicted class
        np.testing.assert_allclose(np.array(a[2:], float), np.array(b[2:], float), atol=1e-5)


def test_torchscript_export_prints_its_check(classify_run, tmp_path, capsys):
    assert main(["export", str(classify_run), "--format", "torchscript", "--out", str(tmp_path / "m.pt")]) == 0
    assert "checked against PyTorch at x [3, 7, 23, 1] with masked steps: max difference" in capsys.readouterr().out


@pytest.mark.parametrize("module, extra", [("lightning", "train"), ("aeon", "data"), ("matplotlib", "plot"),
                                           ("onnxruntime", "export")])
def test_a_missing_extra_names_its_pip_command(module, extra):
    err = ModuleNotFoundError(f"No module named '{module}'", name=module)
    assert missing_extra(err) == f"{module} is not installed: pip install 'attnpool[{extra}]'"


def test_train_without_lightning_is_one_line_and_leaves_no_run(tmp_path, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "lightning" or m.startswith("lightning.")] + ["lightning"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the train extra were not installed
    code = main(["train", "synthetic:peaks", "--out", str(tmp_path / "run"), "--data-option", "samples=40"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == "attnpool: error: lightning is not installed: pip install 'attnpool[train]'"
    assert not (tmp_path / "run").exists()
