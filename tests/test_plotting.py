"""Tests of nblib/plotting.py (drawn off-screen with matplotlib's Agg backend)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nblib import (SGD, CrossEntropy, Dense, LivePlot, Sequential, make_a_greater_b, make_spirals,  # noqa: E402
                   plot_confusion_matrix, plot_decision_boundary, plot_history, plot_images, plot_probabilities)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_decision_boundary_of_a_known_linear_model():
    """A model whose class-1 logit minus class-0 logit is a - b: the 0.5 contour is the line a = b."""
    model = Sequential([Dense(2, 2)]).astype(np.float64)
    model.layers[0].params["W"][...] = [[0.0, 1.0], [0.0, -1.0]]
    model.layers[0].params["b"][...] = 0.0
    x, y = make_a_greater_b(50, seed=0)
    ax = plot_decision_boundary(model, x.astype(np.float64), y, resolution=50)
    line = ax.collections[1].get_paths()[0].vertices     # the 0.5 level
    np.testing.assert_allclose(line[:, 0], line[:, 1], atol=0.02)


def test_decision_boundary_for_many_classes_draws_each_region():
    x, y = make_spirals(90, classes=3, seed=0)
    model = Sequential([Dense(2, 3)])
    ax = plot_decision_boundary(model, x, y, resolution=30)
    assert len(ax.collections) >= 2   # filled regions and the points


def test_history_plot_has_training_and_validation_curves():
    history = {"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0], "accuracy": [0.5, 0.7, 0.9],
               "val_accuracy": [0.4, 0.6, 0.8]}
    axes = plot_history(history)
    assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy"]
    np.testing.assert_array_equal(axes[0].lines[1].get_ydata(), [3.5, 2.5, 2.0])
    np.testing.assert_array_equal(axes[1].lines[0].get_xdata(), [1, 2, 3])


def test_live_plot_redraws_during_fit(capsys):
    x, y = make_a_greater_b(40, seed=0)
    live = LivePlot(data=(x, y))
    model = Sequential([Dense(2, 2)])
    model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.5), epochs=3, callbacks=[live], verbose=False)
    axes = live._fig.axes
    assert axes[0].get_ylabel() == "loss" and len(axes[0].lines[0].get_ydata()) == 3
    assert axes[2].get_title() == "epoch 3"


def test_confusion_matrix_counts_match_a_loop():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    expected = np.zeros((4, 4), int)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    counts = plot_confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == 200


def test_confusion_matrix_uses_the_class_names_for_its_size_and_ticks():
    names = ["cat", "dog", "bird"]
    fig, ax = plt.subplots()
    counts = plot_confusion_matrix(np.array([0, 1]), np.array([1, 1]), class_names=names, ax=ax)
    assert counts.shape == (3, 3) and counts[0, 1] == 1 and counts[1, 1] == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == names


def test_images_grid_shape_titles_and_channel_axis():
    images = np.random.default_rng(1).random((7, 1, 5, 5))
    axes = plot_images(images, titles=[str(i) for i in range(7)], ncols=3)
    assert len(axes) == 9                                   # 3 rows of 3, two left empty
    assert [ax.get_title() for ax in axes[:7]] == [str(i) for i in range(7)]
    assert len(axes[0].images) == 1 and len(axes[8].images) == 0
    np.testing.assert_array_equal(axes[2].images[0].get_array(), images[2, 0])


def test_images_symmetric_scale_is_centred_on_zero():
    axes = plot_images(np.array([[[-1.0, 3.0]]]), symmetric=True)
    assert axes[0].images[0].get_clim() == (-3.0, 3.0)


def test_images_refuses_a_wrong_shape():
    with pytest.raises(ValueError, match="plot_images expected images of shape"):
        plot_images(np.zeros((5, 5)))


def test_probability_bars_colour_the_true_class_and_a_wrong_top_answer():
    p = np.array([0.1, 0.6, 0.3])
    ax = plot_probabilities(p, label=2)
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, p)
    colours = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert colours[2] == matplotlib.colors.to_hex("tab:green")   # the true class
    assert colours[1] == matplotlib.colors.to_hex("tab:red")     # the wrong top answer
    assert colours[0] == matplotlib.colors.to_hex("tab:gray")
