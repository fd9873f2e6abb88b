"""Save and load a Sequential as one .npz file (hand-written, not taught in a notebook): the layers as
JSON, the weights as numeric arrays and a SHA-256 of both, read with allow_pickle=False."""
import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["save_model", "load_model"]

FORMAT = "nblib-sequential-1"


def _digest(architecture, arrays):
    """SHA-256 of the architecture and of every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(architecture.encode())
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _state(layer):
    """A layer's arrays to save: its parameters, and the arrays it lists in `buffers` (BatchNorm's running statistics)."""
    return {**layer.params, **{name: getattr(layer, name) for name in getattr(layer, "buffers", ())}}


def save_model(model, path):
    """Write `model` (a Sequential) to `path`: a new file renamed into place, so an earlier save survives a failure."""
    path = Path(path)
    architecture = json.dumps([{"class": type(layer).__name__, "config": layer.config()}
                               for layer in model.layers])
    arrays = {f"layer{i}.{name}": a for i, layer in enumerate(model.layers) for name, a in _state(layer).items()}
    meta = {"__format__": np.array(FORMAT), "__architecture__": np.array(architecture),
            "__sha256__": np.array(_digest(architecture, arrays))}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **meta, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_model(path):
    """Read a model written by `save_model`; anything unexpected raises ValueError naming the file."""
    import nblib  # the layer classes, looked up by name

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"{path}: not a readable nblib model file ({type(e).__name__}: {e})") from None

    def bad(reason):
        return ValueError(f"{path}: not a valid nblib model file: {reason}")

    meta = {k: arrays.pop(k, None) for k in ("__format__", "__architecture__", "__sha256__")}
    if any(v is None or v.dtype.kind != "U" or v.shape != () for v in meta.values()):
        raise bad("its format header is missing")
    if str(meta["__format__"]) != FORMAT:
        raise bad(f"format {str(meta['__format__'])!r}, expected {FORMAT!r}")
    architecture = str(meta["__architecture__"])
    if _digest(architecture, arrays) != str(meta["__sha256__"]):
        raise bad("its checksum does not match its contents (the file was changed or damaged)")
    try:
        layers = []
        for spec in json.loads(architecture):
            cls = getattr(nblib, spec["class"], None)
            if not (isinstance(cls, type) and issubclass(cls, nblib.Layer)):
                raise bad(f"unknown layer class {spec['class']!r}")
            layers.append(cls(**spec["config"]))
    except (TypeError, KeyError, json.JSONDecodeError) as e:
        raise bad(f"its architecture cannot be read ({e})") from None
    expected = {f"layer{i}.{name}": (layer, name, a) for i, layer in enumerate(layers) for name, a in _state(layer).items()}
    if set(expected) != set(arrays):
        raise bad(f"weights {sorted(arrays)} do not match the architecture's {sorted(expected)}")
    for key, (layer, name, p) in expected.items():
        a = arrays[key]
        if a.shape != p.shape or a.dtype.kind != "f":
            raise bad(f"{key} is {a.dtype} {a.shape}, expected float {p.shape}")
    for key, (layer, name, p) in expected.items():       # every array checked: now set them
        if name in layer.params:
            layer.params[name], layer.grads[name] = arrays[key], np.zeros_like(arrays[key])
        else:
            setattr(layer, name, arrays[key])
    return nblib.Sequential(layers)
