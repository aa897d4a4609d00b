import math

import numpy as np
import pytest

from attnpool.explain.stats import attention_stats, pointing_game


def test_uniform_weights_have_entropy_log_t_and_t_effective_steps():
    for steps in (1, 2, 7, 500):
        stats = attention_stats(np.full((3, 2, steps), 1.0 / steps))
        np.testing.assert_allclose(stats["entropy"], math.log(steps), atol=1e-12)
        np.testing.assert_allclose(stats["effective_steps"], steps, rtol=1e-12)
        np.testing.assert_allclose(stats["max_weight"], 1.0 / steps)
        assert stats["entropy"].shape == (3, 2)


def test_one_hot_weights_have_entropy_zero_and_one_effective_step():
    weights = np.zeros((2, 3, 5))
    weights[0, :, 4] = 1.0
    weights[1, :, 1] = 1.0
    stats = attention_stats(weights)
    np.testing.assert_array_equal(stats["entropy"], 0.0)
    np.testing.assert_array_equal(stats["effective_steps"], 1.0)
    np.testing.assert_array_equal(stats["argmax_step"], [[4, 4, 4], [1, 1, 1]])
    np.testing.assert_array_equal(stats["max_weight"], 1.0)
    assert stats["argmax_step"].dtype == np.int64


def test_masked_steps_are_ignored_even_when_nan():
    # Uniform over the first 3 of 6 steps; the masked tail holds garbage.
    weights = np.array([[1 / 3, 1 / 3, 1 / 3, np.nan, 5.0, np.inf]])
    mask = np.array([[True, True, True, False, False, False]])
    stats = attention_stats(weights, mask)
    np.testing.assert_allclose(stats["entropy"], [math.log(3)])
    np.testing.assert_allclose(stats["effective_steps"], [3.0])
    assert stats["argmax_step"][0] in (0, 1, 2)


def test_all_zero_or_all_masked_row_has_zero_statistics_and_no_argmax():
    weights = np.array([[0.0, 0.0, 0.0], [0.2, 0.5, 0.3]])
    mask = np.array([[True, True, True], [False, False, False]])
    for stats in (attention_stats(weights[:1]), attention_stats(weights, mask)):
        assert stats["entropy"][0] == 0.0
        assert stats["effective_steps"][0] == 0.0
        assert stats["argmax_step"][0] == -1
        assert stats["max_weight"][0] == 0.0
    assert attention_stats(weights, mask)["argmax_step"][1] == -1


def test_argmax_and_any_leading_axes():
    weights = np.array([0.1, 0.6, 0.3])
    stats = attention_stats(weights)
    assert stats["argmax_step"].shape == ()
    assert int(stats["argmax_step"]) == 1
    expected = -(0.1 * math.log(0.1) + 0.6 * math.log(0.6) + 0.3 * math.log(0.3))
    assert float(stats["entropy"]) == pytest.approx(expected)
    assert float(stats["effective_steps"]) == pytest.approx(1 / (0.01 + 0.36 + 0.09))


def test_torch_tensor_input_is_accepted():
    torch = pytest.importorskip("torch")
    weights = torch.full((2, 4), 0.25, requires_grad=True)
    np.testing.assert_allclose(attention_stats(weights)["effective_steps"], 4.0)


@pytest.mark.parametrize(
    ("weights", "mask", "error", "match"),
    [
        (np.array([0.5, -0.1, 0.6]), None, ValueError, "non-negative"),
        (np.array([0.5, np.nan]), None, ValueError, "finite"),
        (np.zeros((2, 0)), None, ValueError, "at least one step"),
        (np.array(["a"]), None, TypeError, "numeric"),
        (np.ones((2, 3)), np.ones((2, 3)), TypeError, "bool"),
        (np.ones((2, 3)), np.ones((3, 2), dtype=bool), ValueError, "shape of weights"),
    ],
)
def test_bad_inputs_are_refused_with_a_message(weights, mask, error, match):
    with pytest.raises(error, match=match):
        attention_stats(weights, mask)


def _pointing_case():
    # 2 samples x 3 nodes x 6 steps; window of width 2.
    weights = np.zeros((2, 3, 6))
    weights[0, 0] = [0.0, 0.0, 0.7, 0.1, 0.1, 0.1]  # start 2 -> argmax 2: hit, mass 0.8
    weights[0, 1] = [0.6, 0.0, 0.0, 0.2, 0.2, 0.0]  # start 3 -> argmax 0: miss, mass 0.4
    weights[0, 2] = [1 / 6] * 6  # start -1 -> no peak here: excluded
    weights[1, 0] = [0.0, 0.0, 0.0, 0.0, 0.3, 0.7]  # start 4 -> argmax 5: hit (last step of window), mass 1.0
    weights[1, 1] = [0.0] * 6  # start 0 -> all-zero row points nowhere: miss, mass 0
    weights[1, 2] = [0.0, 0.0, 0.0, 0.0, 0.9, 0.1]  # start 5 -> argmax 4, one before: miss, mass 0.1
    start = np.array([[2, 3, -1], [4, 0, 5]])
    return weights, start


def test_pointing_game_on_a_hand_made_case():
    weights, start = _pointing_case()
    result = pointing_game(weights, start, 2)
    assert result["evaluated"] == 5
    assert result["pointing_accuracy"] == pytest.approx(2 / 5)
    assert result["attention_mass"] == pytest.approx((0.8 + 0.4 + 1.0 + 0.0 + 0.1) / 5)


def test_pointing_game_valid_restricts_and_width_broadcasts():
    weights, start = _pointing_case()
    valid = np.array([[True, True, True], [True, False, False]])
    result = pointing_game(weights, start, np.array(2), valid=valid)
    assert result["evaluated"] == 3
    assert result["pointing_accuracy"] == pytest.approx(2 / 3)
    assert result["attention_mass"] == pytest.approx((0.8 + 0.4 + 1.0) / 3)
    # The window is clipped at T: start 5, width 3 covers step 5 only, so argmax 4 stays a miss, mass 0.1.
    wide = pointing_game(weights, start, 3, valid=np.array([[False, False, False], [False, False, True]]))
    assert wide["pointing_accuracy"] == 0.0 and wide["attention_mass"] == pytest.approx(0.1)
    # An earlier window start turns the near miss into a hit.
    moved = pointing_game(weights, np.array([[-1, -1, -1], [-1, -1, 4]]), 2)
    assert moved["pointing_accuracy"] == 1.0 and moved["attention_mass"] == pytest.approx(1.0)
    shifted = pointing_game(weights, np.array([[0], [3]]), 3)  # one window per sample, broadcast over nodes
    assert shifted["evaluated"] == 6


def test_pointing_game_with_nothing_to_evaluate_is_nan():
    weights, _ = _pointing_case()
    result = pointing_game(weights, np.full((2, 3), -1), 2)
    assert result["evaluated"] == 0
    assert math.isnan(result["pointing_accuracy"]) and math.isnan(result["attention_mass"])


def test_pointing_game_refuses_bad_arguments():
    weights, start = _pointing_case()
    with pytest.raises(ValueError, match=r"\[S, N, T\]"):
        pointing_game(weights[0], start, 2)
    with pytest.raises(ValueError, match="window_width"):
        pointing_game(weights, start, 0)
    with pytest.raises(TypeError, match="window_start"):
        pointing_game(weights, start.astype(float), 2)
    with pytest.raises(ValueError, match="window_start"):
        pointing_game(weights, np.zeros((3, 2), dtype=int), 2)
