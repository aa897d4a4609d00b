import numpy as np
import pytest

pytest.importorskip("matplotlib")

from attnpool.explain.plots import plot_compare, plot_sample  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _softmax_rows(scores, mask):
    weights = np.where(mask, np.exp(scores - scores.max(axis=-1, keepdims=True)), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def _is_png(path):
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG_MAGIC)


@pytest.mark.parametrize(("nodes", "steps", "features"), [(1, 5, 1), (3, 20, 2), (9, 40, 13)])
def test_plot_sample_writes_a_png_with_and_without_mask(tmp_path, nodes, steps, features):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(nodes, steps, features))
    mask = np.ones((nodes, steps), dtype=bool)
    mask[:, steps - 2 :] = False
    mask[0, 0] = False
    weights = _softmax_rows(rng.normal(size=(nodes, steps)), mask)
    names = [f"sensor {n}" for n in range(nodes)]
    for masked in (True, False):
        path = plot_sample(
            tmp_path / f"deep/{masked}.png",
            x,
            weights,
            mask=mask if masked else None,
            node_names=names,
            title="sample 3: true walking, predicted running",
        )
        assert _is_png(path)


def test_plot_sample_accepts_feature_names_step_labels_and_2d_input(tmp_path):
    x = np.sin(np.linspace(0, 6, 12))[None, :]  # [N=1, T=12] read as F = 1
    weights = np.full((1, 12), 1 / 12)
    path = plot_sample(
        tmp_path / "one.png",
        x,
        weights,
        node_names=["only"],
        feature_names=["acc"],
        title="sample 0",
        step_labels=[f"09:{m:02d}" for m in range(12)],
    )
    assert _is_png(path)


def test_plot_sample_also_draws_an_all_masked_node(tmp_path):
    x = np.ones((2, 6, 1))
    mask = np.array([[True] * 6, [False] * 6])
    weights = np.where(mask, 1 / 6, 0.0)
    assert _is_png(plot_sample(tmp_path / "a.png", x, weights, mask=mask, node_names=["a", "b"], title="t"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": np.ones((2, 5))}, "weights must be"),
        ({"node_names": ["a", "b"]}, "node_names"),
        ({"feature_names": ["a"]}, "feature_names"),
        ({"mask": np.ones((3, 6))}, "mask"),
        ({"step_labels": list("abc")}, "step_labels"),
    ],
)
def test_plot_sample_checks_its_arguments(tmp_path, kwargs, match):
    args = {"x": np.zeros((3, 6, 2)), "weights": np.full((3, 6), 1 / 6), "node_names": ["a", "b", "c"], "title": "t"}
    args.update(kwargs)
    x, weights = args.pop("x"), args.pop("weights")
    with pytest.raises(ValueError, match=match):
        plot_sample(tmp_path / "bad.png", x, weights, **args)


def test_plot_compare_writes_a_png(tmp_path):
    rows = [
        {"pool": "attention", "n": 3, "accuracy_mean": 0.95, "accuracy_std": 0.01},
        {"pool": "mean", "n": 3, "accuracy_mean": 0.7, "accuracy_std": 0.05},
        {"pool": "max", "n": 1, "accuracy_mean": 0.8, "accuracy_std": 0.0},
    ]
    assert _is_png(plot_compare(tmp_path / "c.png", rows, "accuracy"))
    with pytest.raises(ValueError, match="mae"):
        plot_compare(tmp_path / "d.png", rows, "mae")
