"""Tests of nblib/saving.py: Sequential.save / Sequential.load."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

from nblib import Dense, Sequential, saving


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    m = Sequential([Dense(3, 4, rng=rng), Dense(4, 2, init="glorot", rng=rng)])
    m.layers[0].params["b"][...] = rng.standard_normal(4)
    return m


def rewrite(path, change):
    """Read every array of an .npz, let `change` edit the dict, write it back (no checksum update)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_round_trip_gives_the_same_predictions(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = Sequential.load(path)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [repr(l) for l in loaded.layers] == [repr(l) for l in model.layers]
    assert loaded.layers[1].config()["init"] == "glorot"
    assert loaded.layers[0].params["W"].dtype == np.float32


def test_save_leaves_no_temporary_files(model, tmp_path):
    model.save(tmp_path / "m.npz")
    model.save(tmp_path / "m.npz")   # overwriting is fine
    assert os.listdir(tmp_path) == ["m.npz"]


def test_a_failed_save_keeps_the_earlier_file(model, tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(saving.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.npz"):
        Sequential.load(tmp_path / "nothere.npz")


def test_truncated_file(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="m.npz"):
        Sequential.load(path)


def test_not_an_npz_at_all(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(ValueError, match="notes.npz"):
        Sequential.load(path)


def test_foreign_npz(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, weights=np.ones(3))
    with pytest.raises(ValueError, match="foreign.npz.*format header"):
        Sequential.load(path)


def test_tampered_weights_are_detected(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    rewrite(path, lambda a: a.__setitem__("layer0.W", a["layer0.W"] + 1))
    with pytest.raises(ValueError, match="checksum"):
        Sequential.load(path)


def test_tampered_architecture_is_detected(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    arch = [{"class": "Dense", "config": {"in_features": 3, "out_features": 5, "init": "he"}}]
    rewrite(path, lambda a: a.__setitem__("__architecture__", np.array(json.dumps(arch))))
    with pytest.raises(ValueError, match="checksum"):
        Sequential.load(path)


def test_unknown_layer_class_with_a_valid_checksum(tmp_path):
    path = tmp_path / "m.npz"
    arch = json.dumps([{"class": "os", "config": {}}])
    arrays = {}
    np.savez(path, __format__=np.array(saving.FORMAT), __architecture__=np.array(arch),
             __sha256__=np.array(saving._digest(arch, arrays)))
    with pytest.raises(ValueError, match="unknown layer class 'os'"):
        Sequential.load(path)


def test_object_arrays_are_refused_and_never_unpickled(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with zipfile.ZipFile(path, "a") as z:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.array([Evil()], dtype=object), allow_pickle=True)
        z.writestr("evil.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="m.npz"):
        Sequential.load(path)
    assert not marker.exists()


def test_extra_or_missing_weights(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)

    def drop_and_resign(a):
        del a["layer1.b"]
        meta = ("__format__", "__architecture__", "__sha256__")
        a["__sha256__"] = np.array(saving._digest(str(a["__architecture__"]),
                                                  {k: v for k, v in a.items() if k not in meta}))

    rewrite(path, drop_and_resign)
    with pytest.raises(ValueError, match="do not match the architecture"):
        Sequential.load(path)


def test_batchnorm_running_statistics_are_saved_and_restored(tmp_path):
    from nblib import BatchNorm1D, BatchNorm2D, Flatten, ReLU

    rng = np.random.default_rng(2)
    m = Sequential([BatchNorm2D(2), Flatten(), Dense(2 * 3 * 3, 4, rng=rng), BatchNorm1D(4), ReLU()])
    for _ in range(3):   # training steps move the running statistics away from 0 and 1
        m.forward((3 + 2 * rng.standard_normal((8, 2, 3, 3))).astype(np.float32))
    before = [(l.running_mean.copy(), l.running_var.copy()) for l in (m.layers[0], m.layers[3])]
    assert not np.allclose(before[0][0], 0) and not np.allclose(before[1][1], 1)
    m.save(tmp_path / "bn.npz")
    loaded = Sequential.load(tmp_path / "bn.npz")
    for layer, (mean, var) in zip((loaded.layers[0], loaded.layers[3]), before):
        np.testing.assert_array_equal(layer.running_mean, mean)
        np.testing.assert_array_equal(layer.running_var, var)
    x = rng.standard_normal((5, 2, 3, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), m.predict(x))   # evaluation uses the running statistics
    rewrite(tmp_path / "bn.npz", lambda arrays: arrays.pop("layer3.running_var"))
    with pytest.raises(ValueError, match="checksum|do not match"):
        Sequential.load(tmp_path / "bn.npz")
