"""load_mnist() on the real, full MNIST, read offline with download=False from the folder it uses
by default (data/mnist/ in a checkout), where `python tools/mnist_offline.py` writes the four
standard files (`course.py test` runs it first). Marked `mnist` by tests/conftest.py (the file
name), so `-m "not mnist"` leaves it out.

The reference values are published figures, not computed by nblib: the class counts and first labels
of the standard split, the mean and standard deviation behind the usual Normalize((0.1307,), (0.3081,)),
and the sha256 and MD5 of the four uncompressed standard IDX files as many projects list them.
"""
import hashlib
import struct

import numpy as np
import pytest

import nblib

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
PUBLISHED = {  # uncompressed standard file: (sha256, md5)
    "train-images-idx3-ubyte": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                                "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                                "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                               "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                               "27ae3e4e09519cfbb04c329615203637"),
}


@pytest.fixture(scope="module")
def loaded():
    # download=False: never the network; a missing file is a FileNotFoundError that names
    # tools/mnist_offline.py
    return nblib.load_mnist(download=False)


def test_shapes_and_dtypes(loaded):
    x_train, y_train, x_test, y_test = loaded
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.int64
    assert y_test.shape == (10000,) and y_test.dtype == np.int64


def test_labels_are_the_standard_split(loaded):
    _, y_train, _, y_test = loaded
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_pixels_match_the_published_statistics(loaded):
    x_train = loaded[0]
    assert x_train.min() == 0 and x_train.max() == 255
    scaled = x_train.astype(np.float64) / 255
    assert round(scaled.mean(), 4) == 0.1307 and round(scaled.std(), 4) == 0.3081


def test_bytes_match_the_published_checksums_of_the_standard_files(loaded):
    x_train, y_train, x_test, y_test = loaded
    arrays = {"train-images-idx3-ubyte": x_train, "train-labels-idx1-ubyte": y_train,
              "t10k-images-idx3-ubyte": x_test, "t10k-labels-idx1-ubyte": y_test}
    for name, a in arrays.items():
        a = a.astype(np.uint8)
        code_and_dims = bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
        data = code_and_dims + a.tobytes()
        assert (hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()) == PUBLISHED[name], name


def test_download_false_reads_the_files_without_the_network(loaded, monkeypatch):
    import pooch

    def no_network(*args, **kwargs):
        raise AssertionError("load_mnist(download=False) must not download")

    monkeypatch.setattr(pooch, "retrieve", no_network)
    again = nblib.load_mnist(download=False)
    for a, b in zip(loaded, again):
        assert a.dtype == b.dtype and np.array_equal(a, b)
