"""Tests of nblib/datasets.py, the toy data sets."""
import numpy as np
import pytest

from nblib import make_a_approx_b, make_a_greater_b, make_sine, make_spirals, make_xor


@pytest.mark.parametrize("make", [make_a_greater_b, make_a_approx_b, make_xor, make_spirals])
def test_classification_sets_are_float32_int64_and_seeded(make):
    x, y = make(120, seed=3)
    assert x.shape == (120, 2) and x.dtype == np.float32
    assert y.shape == (120,) and y.dtype == np.int64
    x2, y2 = make(120, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(120, seed=4)[0], x)


def test_a_greater_b_labels_and_margin():
    x, y = make_a_greater_b(500, margin=0.05, seed=0)
    np.testing.assert_array_equal(y, (x[:, 0] > x[:, 1]).astype(int))
    assert np.abs(x[:, 0] - x[:, 1]).min() > 0.05
    assert 0.3 < y.mean() < 0.7


def test_a_approx_b_is_a_band():
    x, y = make_a_approx_b(500, tol=0.15, seed=0)
    np.testing.assert_array_equal(y, (np.abs(x[:, 0] - x[:, 1]) < 0.15).astype(int))


def test_xor_labels_follow_the_quadrants():
    x, y = make_xor(400, noise=0.1, seed=0)
    # with small noise every point stays in its blob's quadrant
    np.testing.assert_array_equal(y, (np.sign(x[:, 0]) == np.sign(x[:, 1])).astype(int))


def test_spirals_have_balanced_classes():
    x, y = make_spirals(300, classes=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    assert np.abs(x).max() <= 1.0 + 1e-6


def test_sine_regression():
    x, t = make_sine(300, noise=0.0, seed=0)
    assert x.shape == t.shape == (300, 1)
    np.testing.assert_allclose(t, np.sin(x) + x, atol=1e-6)


@pytest.mark.parametrize("n", [0, -5, 2.5])
def test_bad_sizes(n):
    with pytest.raises(ValueError, match="make_xor"):
        make_xor(n)
