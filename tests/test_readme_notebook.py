"""The README's notebook of an aeon user, run as written (fewer steps): GunPoint -> AttentionClassifier -> save
-> ``attnpool export`` -> onnxruntime equal to ``load_run(...).predict`` on another batch size and length."""

import re
from pathlib import Path

import pytest

from .cli_helpers import attnpool

pytest.importorskip("aeon")
pytest.importorskip("onnxruntime")

README = Path(__file__).resolve().parents[1] / "README.md"


def notebook_blocks() -> list[tuple[str, str]]:
    text = README.read_text()
    notebook = text.split("<!-- notebook:start -->")[1].split("<!-- notebook:end -->")[0]
    return re.findall(r"```(python|bash)\n(.*?)```", notebook, re.S)


@pytest.mark.slow
def test_readme_notebook_runs_as_written(tmp_path, monkeypatch, capsys):
    blocks = notebook_blocks()
    assert [kind for kind, _ in blocks] == ["python", "bash", "python"]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for kind, code in blocks:
        if kind == "python":
            assert "steps=300" in code or "AttentionClassifier(" not in code
            exec(compile(code.replace("steps=300", "steps=6"), "README.md", "exec"), namespace)  # noqa: S102
        else:
            for line in code.strip().splitlines():
                command = line.split("#")[0].split()
                assert command[0] == "attnpool"
                proc = attnpool(*command[1:], cwd=tmp_path)
                assert proc.returncode == 0, proc.stderr
                assert "max difference" in proc.stdout
    out = capsys.readouterr().out
    assert "test accuracy" in out and "onnxruntime vs PyTorch:" in out
    assert namespace["difference"] < 1e-5
    assert namespace["weights"].shape == (150, 1, 150)
    assert namespace["x"].shape == (7, 1, 120, 1)  # neither the export's example (2, 16) nor its check (3, 23)
    with capsys.disabled():
        print(f"\nREADME notebook: onnxruntime vs load_run().predict max difference {namespace['difference']:.3g}")
