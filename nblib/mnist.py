"""MNIST and Fashion-MNIST as NumPy arrays, the standard split checked against published hashes, downloaded
by pooch when missing (hand-written, not taught in a notebook; where the files go: data/README.md)."""
import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = ["load_mnist", "load_fashion_mnist", "FASHION_MNIST_CLASSES", "read_idx"]

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = {"x_train": ("train-images-idx3-ubyte", (60000, 28, 28)), "y_train": ("train-labels-idx1-ubyte", (60000,)),
         "x_test": ("t10k-images-idx3-ubyte", (10000, 28, 28)), "y_test": ("t10k-labels-idx1-ubyte", (10000,))}

# For each file: the hash of the published .gz file (torchvision lists these MD5s) and of the
# unpacked file (MNIST: sha256, equal to the published ones; Fashion-MNIST: its published MD5).
# Tests replace entries (monkeypatch.setitem) to point the loader at small files of their own.
DATASETS = {
    "mnist": {
        "urls": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        "hashes": {
            "x_train": ("md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
                        "sha256:ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            "y_train": ("md5:d53e105ee54ea40749a09fcbcd1e9432",
                        "sha256:65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            "x_test": ("md5:9fb629c4189551a2d022fa330f9573f3",
                       "sha256:0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            "y_test": ("md5:ec29112dd5afa0611ce80d1b7f02629c",
                       "sha256:ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")}},
    "fashion_mnist": {
        "urls": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
        "hashes": {
            "x_train": ("md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d", "md5:f4a8712d7a061bf5bd6d2ca38dc4d50a"),
            "y_train": ("md5:25c81989df183df01b3e8a0aad5dffbe", "md5:9018921c3c673c538a1fc5bad174d6f9"),
            "x_test": ("md5:bef4ecab320f06d8554ea6380940ec79", "md5:8181f5470baa50b63fa0f6fddb340f0a"),
            "y_test": ("md5:bb300cfdad3c16e7a12a480ee83cd310", "md5:15d484375f8d13e6eb1aabb0c3f46965")}},
}


def load_mnist(data_dir=None, download=True):
    """x_train uint8 (60000, 28, 28), y_train int64 (60000,), x_test, y_test; `download=False` stays offline."""
    return _load("mnist", data_dir, download)


def load_fashion_mnist(data_dir=None, download=True):
    """Fashion-MNIST, shaped and checked like `load_mnist`; label k is FASHION_MNIST_CLASSES[k]."""
    return _load("fashion_mnist", data_dir, download)


def default_data_dir(name):
    """`$NBLIB_DATA_DIR/<name>`, else `data/<name>` in a checkout of the course, else pooch's cache."""
    if os.environ.get("NBLIB_DATA_DIR"):
        return Path(os.environ["NBLIB_DATA_DIR"]) / name
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "data" / "README.md").is_file():
        return checkout / "data" / name
    import pooch
    return Path(pooch.os_cache("nblib")) / name


def _load(name, data_dir, download):
    folder = Path(data_dir) if data_dir is not None else default_data_dir(name)
    arrays = {key: read_idx(_fetch(name, folder, key, download)) for key in FILES}
    for key, (file, shape) in FILES.items():
        if arrays[key].shape != shape:
            raise ValueError(f"{folder / file}: expected shape {shape}, found {arrays[key].shape}")
    return (arrays["x_train"], arrays["y_train"].astype(np.int64),
            arrays["x_test"], arrays["y_test"].astype(np.int64))


def _fetch(name, folder, key, download):
    """The bytes of one unpacked IDX file, from `folder` or downloaded into it; hash-checked."""
    import pooch
    file, gz = FILES[key][0], folder / f"{FILES[key][0]}.gz"
    gz_hash, raw_hash = DATASETS[name]["hashes"][key]
    if (folder / file).is_file():
        return _checked(folder / file, (folder / file).read_bytes(), raw_hash)
    if not gz.is_file():
        if not download:
            raise FileNotFoundError(f"{name}: {folder / file} is missing and download=False "
                                    "(offline: python tools/mnist_offline.py writes the MNIST files)")
        errors = []
        for url in DATASETS[name]["urls"]:
            try:
                pooch.retrieve(url + gz.name, known_hash=gz_hash, fname=gz.name, path=folder,
                               downloader=pooch.HTTPDownloader(progressbar=True, timeout=30))
                break
            except Exception as error:   # no network, a mirror down, a corrupted download
                errors.append(f"{url}: {error}")
        else:
            raise OSError(f"{name}: could not download {gz.name}:\n  " + "\n  ".join(errors) +
                          "\nOffline, python tools/mnist_offline.py writes the MNIST files.")
    return _checked(gz, gzip.decompress(_checked(gz, gz.read_bytes(), gz_hash)), raw_hash)


def _checked(path, data, known_hash):
    """`data`, read from `path` (or unpacked from it), if its hash is `known_hash`; else a ValueError."""
    algorithm, digest = known_hash.split(":")
    if hashlib.new(algorithm, data).hexdigest() != digest:
        raise ValueError(f"{path} is truncated or not the published file (its {algorithm} differs): "
                         "delete it to download it again")
    return data


def read_idx(data):
    """Parse an IDX file's bytes: two zero bytes, a type code (0x08: uint8), the number of
    dimensions, one big-endian uint32 per dimension, then the values in row-major order."""
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise ValueError("not an IDX file of uint8 values (bad magic number)")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise ValueError("IDX file truncated inside its header")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    if len(data) != 4 + 4 * ndim + int(np.prod(shape)):
        raise ValueError(f"IDX file of shape {shape} has {len(data)} bytes: truncated or padded")
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()
