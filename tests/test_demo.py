"""The demo's main job trains attention and mean pooling and reports both (short budget here)."""

from attnpool.demo import main_job


def test_main_job_reports_both_poolings(tmp_path, capsys):
    results = main_job(out=str(tmp_path), epochs=2)
    assert set(results) == {"attention", "mean"}
    text = capsys.readouterr().out
    assert "attention pooling: test accuracy" in text and "mean      pooling: test accuracy" in text
    assert "pointing game" in text
    assert (tmp_path / "attention" / "metrics.json").is_file() and (tmp_path / "mean" / "model.pt").is_file()
