"""Fast, offline tests of the MNIST / Fashion-MNIST loader (nblib/mnist.py) and tools/mnist_offline.py.

The loader is pointed at small fake data sets whose files and hashes the tests make themselves
(IDX headers packed by hand, hashlib); downloads come from an HTTP server on 127.0.0.1. The real,
full MNIST is tested in test_mnist_full.py (marked mnist).
"""
import contextlib
import gzip
import hashlib
import importlib.util
import io
import pickle
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import nblib
from nblib import mnist

NAMES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
         "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
SHAPES = {"x_train": (6, 28, 28), "y_train": (6,), "x_test": (4, 28, 28), "y_test": (4,)}
OFFLINE = Path(__file__).resolve().parent.parent / "tools" / "mnist_offline.py"


def idx_by_hand(a):
    """An IDX file of a uint8 array, packed here independently of nblib."""
    return bytes([0, 0, 8, a.ndim]) + b"".join(n.to_bytes(4, "big") for n in a.shape) + a.tobytes()


@pytest.fixture
def fake(monkeypatch):
    """A small fake Fashion-MNIST: {key: array}; the loader's tables point at its hashes."""
    rng = np.random.default_rng(0)
    arrays = {k: rng.integers(0, 256 if k[0] == "x" else 10, s, dtype=np.uint8) for k, s in SHAPES.items()}
    hashes = {k: ("md5:" + hashlib.md5(gzip.compress(idx_by_hand(a), mtime=0)).hexdigest(),
                  "md5:" + hashlib.md5(idx_by_hand(a)).hexdigest()) for k, a in arrays.items()}
    monkeypatch.setattr(mnist, "FILES", {k: (NAMES[k], s) for k, s in SHAPES.items()})
    monkeypatch.setitem(mnist.DATASETS, "fashion_mnist", {"urls": (), "hashes": hashes})
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return arrays


def write(folder, arrays, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    for key, a in arrays.items():
        data = idx_by_hand(a)
        (folder / (NAMES[key] + (".gz" if gz else ""))).write_bytes(gzip.compress(data, mtime=0) if gz else data)


def assert_same(loaded, arrays):
    for got, key in zip(loaded, ("x_train", "y_train", "x_test", "y_test")):
        assert got.dtype == (np.uint8 if key[0] == "x" else np.int64) and np.array_equal(got, arrays[key])


@contextlib.contextmanager
def serve(routes):
    """An HTTP server on 127.0.0.1 (a free port, in a thread) serving {path: bytes}; yields its base URL."""
    requested = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            body = routes.get(self.path)
            if body is None:
                return self.send_error(404)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        server.shutdown()
        server.server_close()


def test_read_idx_parses_a_hand_packed_file_and_refuses_damaged_ones():
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert np.array_equal(mnist.read_idx(idx_by_hand(a)), a)
    with pytest.raises(ValueError, match="magic"):
        mnist.read_idx(b"\x00\x00\x0d\x01" + bytes(8))          # float32 type code
    with pytest.raises(ValueError, match="truncated"):
        mnist.read_idx(idx_by_hand(a)[:-1])
    with pytest.raises(ValueError, match="truncated or padded"):
        mnist.read_idx(idx_by_hand(a) + b"\x00")
    with pytest.raises(ValueError, match="header"):
        mnist.read_idx(b"\x00\x00\x08\x03" + bytes(4))


@pytest.mark.parametrize("gz", [False, True], ids=["unpacked", "gzipped"])
def test_files_in_the_folder_are_loaded_without_network(fake, tmp_path, gz):
    write(tmp_path, fake, gz=gz)
    assert_same(nblib.load_fashion_mnist(data_dir=tmp_path, download=False), fake)


@pytest.mark.parametrize("gz", [False, True], ids=["unpacked", "gzipped"])
@pytest.mark.parametrize("damage", ["truncated", "tampered"])
def test_a_damaged_file_is_refused_with_its_name(fake, tmp_path, gz, damage):
    write(tmp_path, fake, gz=gz)
    path = tmp_path / (NAMES["x_test"] + (".gz" if gz else ""))
    data = path.read_bytes()
    path.write_bytes(data[:-7] if damage == "truncated" else data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ValueError, match=f"{path.name} is truncated or not the published file"):
        nblib.load_fashion_mnist(data_dir=tmp_path, download=False)


def test_a_missing_file_offline_says_what_to_do(fake, tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False.*mnist_offline.py"):
        nblib.load_fashion_mnist(data_dir=tmp_path, download=False)


def test_download_checks_the_hash_and_caches(fake, tmp_path, monkeypatch):
    routes = {f"/{NAMES[k]}.gz": gzip.compress(idx_by_hand(a), mtime=0) for k, a in fake.items()}
    with serve(routes) as (url, requested):
        monkeypatch.setitem(mnist.DATASETS["fashion_mnist"], "urls", (url,))
        assert_same(nblib.load_fashion_mnist(data_dir=tmp_path), fake)
        assert sorted(requested) == sorted(routes)
        assert_same(nblib.load_fashion_mnist(data_dir=tmp_path), fake)   # from the folder now
        assert len(requested) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(r[1:] for r in routes)


def test_a_corrupted_download_is_refused_and_nothing_is_kept(fake, tmp_path, monkeypatch):
    routes = {f"/{NAMES[k]}.gz": gzip.compress(idx_by_hand(a), mtime=0) for k, a in fake.items()}
    bad = f"/{NAMES['x_train']}.gz"
    routes[bad] = routes[bad][:-5]
    with serve(routes) as (url, _), serve({}) as (missing, _):
        monkeypatch.setitem(mnist.DATASETS["fashion_mnist"], "urls", (missing, url))
        with pytest.raises(OSError, match=f"could not download {NAMES['x_train']}.gz"):
            nblib.load_fashion_mnist(data_dir=tmp_path)
    assert not any(p.name.startswith(NAMES["x_train"]) for p in tmp_path.iterdir()), list(tmp_path.iterdir())


def test_a_wrong_shape_is_refused(fake, tmp_path, monkeypatch):
    write(tmp_path, fake)
    monkeypatch.setitem(mnist.FILES, "x_test", (NAMES["x_test"], (4, 28, 27)))
    with pytest.raises(ValueError, match=r"expected shape \(4, 28, 27\), found \(4, 28, 28\)"):
        nblib.load_fashion_mnist(data_dir=tmp_path, download=False)


def test_the_data_folder_can_be_set_by_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NBLIB_DATA_DIR", str(tmp_path))
    assert mnist.default_data_dir("mnist") == tmp_path / "mnist"


# ---- tools/mnist_offline.py: the wheel's pickle is read by an unpickler that builds arrays only

def offline_script():
    spec = importlib.util.spec_from_file_location("mnist_offline", OFFLINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_offline_unpickler_builds_arrays_and_refuses_anything_else():
    module = offline_script()
    arrays = (np.arange(3.0), np.arange(2))
    loaded = module.ArrayUnpickler(io.BytesIO(pickle.dumps(arrays))).load()
    assert all(np.array_equal(a, b) for a, b in zip(loaded, arrays))

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        module.ArrayUnpickler(io.BytesIO(pickle.dumps(Evil()))).load()


def test_the_offline_idx_writer_matches_a_hand_packed_file():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert offline_script().idx_bytes(a) == idx_by_hand(a)
