"""Speed and memory of nblib's fast layers (notebook 21: FastConv2D, FastMaxPool2D) against the
textbook ones (notebooks 18, 19: Conv2D, MaxPool2D), their loop versions and, when PyTorch is
installed, torch.nn.functional, on the same data in the same run.

    python bench/bench_conv.py                  # 5 rounds of 30 timed steps per side
    python bench/bench_conv.py --rounds 3 --repeat 10
    python bench/bench_conv.py --torch-avx2     # PyTorch limited to AVX2 kernels, as on most laptops

The work (float32 throughout): a convolution (16 -> 32 channels, 3x3, padding 1) forward + backward
on a batch (128, 16, 14, 14), and a 2x2 max-pool forward + backward on (128, 32, 14, 14). A "step" is one
forward and one backward. Each round times every side `repeat` times and keeps the median; the
sides take turns with a pause between them (thread pools that are still spinning slow the other
side down), and the ratio nblib / PyTorch is computed within each round, so that the load of a
shared machine, which drifts over minutes, affects both sides of a ratio alike. The spread of the
per-round ratios is printed with their median. When other processes keep both cores busy,
every multi-threaded OpenBLAS call can stall for several milliseconds (whole scheduler ticks;
OPENBLAS_NUM_THREADS=1 does not), so rounds far from the others are load, not the layer.
NumPy's OpenBLAS picks its kernels at start-up from the CPU model (printed below); on a CPU that
it does not recognise it may fall back to AVX2 kernels where PyTorch uses AVX-512:
`--torch-avx2` compares like with like, and OPENBLAS_CORETYPE=SkylakeX (set before Python
starts, on an AVX-512 CPU only) gives NumPy the AVX-512 kernels.

Memory: the peak of what NumPy allocates during one step (tracemalloc sees NumPy's buffers),
compared with the size of the layer's input plus output. A first step includes the buffers that
FastConv2D allocates once and reuses; a second step shows what a step costs after that. The
"extra" memory leaves out the output and input gradient that the step returns (as notebook 21).

Hand-written (not taught in a notebook). PyTorch is never a requirement of the course: install it
by hand (`pip install torch==2.13.0`, a CPU build) to get the comparison.
"""
import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

from nblib import Conv2D, FastConv2D, FastMaxPool2D, MaxPool2D

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
from reference import conv2d_naive, conv2d_naive_backward, max_pool2d_naive, max_pool2d_naive_backward  # noqa: E402


def median_ms(step, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def peak_extra_mb(step):
    """Peak MB that NumPy allocates during step() beyond what was allocated before it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - before) / 2**20


def profile_conv(conv, x, g, steps=20):
    """Split FastConv2D's step time into matrix products and everything else (copies and layout), by
    timing every np.matmul call during the steps (the layer calls np.matmul for all three)."""
    real_matmul, spent = np.matmul, [0.0]

    def timed_matmul(*args, **kwargs):
        start = time.perf_counter()
        result = real_matmul(*args, **kwargs)
        spent[0] += time.perf_counter() - start
        return result

    np.matmul = timed_matmul
    try:
        start = time.perf_counter()
        for _ in range(steps):
            conv.forward(x)
            conv.backward(g)
        total = time.perf_counter() - start
    finally:
        np.matmul = real_matmul
    print(f"\nprofile of {steps} FastConv2D steps: {1e3 * total / steps:.2f} ms per step, of which matrix products "
          f"{1e3 * spent[0] / steps:.2f} ms ({spent[0] / total:.0%}) and the rest (copies into and out of the "
          f"layout, col2im) {1e3 * (total - spent[0]) / steps:.2f} ms")


def blas_description():
    info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    text = f"{info.get('name')} {info.get('version')}"
    try:  # which kernels OpenBLAS chose for this CPU at run time (set OPENBLAS_CORETYPE to change)
        import ctypes, glob
        libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
        lib = ctypes.CDLL(libs[0])
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            if hasattr(lib, name):
                getattr(lib, name).restype = ctypes.c_char_p
                text += f", {getattr(lib, name)().decode()} kernels"
                break
    except Exception:
        pass
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=30, help="timed steps per side and round")
    parser.add_argument("--naive-repeat", type=int, default=2, help="timed steps of the loop versions")
    parser.add_argument("--torch-avx2", action="store_true",
                        help="limit PyTorch to AVX2 kernels (oneDNN and ATen), like NumPy's OpenBLAS here")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also split FastConv2D's time: products vs copies")
    args = parser.parse_args(argv)

    torch = None
    if not args.no_torch:
        if args.torch_avx2:
            os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
            os.environ["ATEN_CPU_CAPABILITY"] = "avx2"
        try:
            import torch
            import torch.nn.functional as F
        except ImportError:
            print("PyTorch is not installed: timing nblib alone (pip install torch==2.13.0 to compare).")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 16, 14, 14)).astype(np.float32)
    conv = FastConv2D(16, 32, 3, padding=1, rng=rng)
    conv.params["b"][...] = rng.standard_normal(32).astype(np.float32)
    textbook = Conv2D(16, 32, 3, padding=1)
    textbook.params = {name: p.copy() for name, p in conv.params.items()}
    g = rng.standard_normal((128, 32, 14, 14)).astype(np.float32)
    xp = rng.standard_normal((128, 32, 14, 14)).astype(np.float32)
    pool, textbook_pool = FastMaxPool2D(2), MaxPool2D(2)
    gp = rng.standard_normal((128, 32, 7, 7)).astype(np.float32)
    W, b = conv.params["W"], conv.params["b"]

    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__} ({blas_description()}), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if torch is not None:
        cap = torch.backends.cpu.get_cpu_capability()
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, kernels: {cap}"
              + (" (limited with --torch-avx2)" if args.torch_avx2 else ""))

    # correctness first: the steps timed below compute the same thing
    y = conv.forward(x)
    dx = conv.backward(g)
    yp, dxp = pool.forward(xp), pool.backward(gp)
    assert y.dtype == dx.dtype == yp.dtype == dxp.dtype == np.float32
    checks = {"textbook Conv2D": max(np.abs(textbook.forward(x) - y).max(), np.abs(textbook.backward(g) - dx).max()),
              "textbook MaxPool2D": max(np.abs(textbook_pool.forward(xp) - yp).max(),
                                        np.abs(textbook_pool.backward(gp) - dxp).max())}
    if torch is not None:
        xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
        yt = F.conv2d(xt, Wt, bt, padding=1)
        yt.backward(torch.from_numpy(g))
        checks["PyTorch conv2d"] = max(np.abs(yt.detach().numpy() - y).max(), np.abs(xt.grad.numpy() - dx).max(),
                                       np.abs(Wt.grad.numpy() - conv.grads["W"]).max() / np.abs(conv.grads["W"]).max())
        xpt = torch.tensor(xp, requires_grad=True)
        ypt = F.max_pool2d(xpt, 2)
        ypt.backward(torch.from_numpy(gp))
        checks["PyTorch max_pool2d"] = max(np.abs(ypt.detach().numpy() - yp).max(), np.abs(xpt.grad.numpy() - dxp).max())
    print("largest differences from the fast layers:", ", ".join(f"{k} {v:.1e}" for k, v in checks.items()))

    sides = {
        "conv": lambda: (conv.forward(x), conv.backward(g)),
        "conv, textbook": lambda: (textbook.forward(x), textbook.backward(g)),
        "max-pool": lambda: (pool.forward(xp), pool.backward(gp)),
        "max-pool, textbook": lambda: (textbook_pool.forward(xp), textbook_pool.backward(gp)),
    }
    if torch is not None:
        gt, gpt = torch.from_numpy(g), torch.from_numpy(gp)

        def torch_conv():
            xt.grad = Wt.grad = bt.grad = None
            F.conv2d(xt, Wt, bt, padding=1).backward(gt)

        def torch_pool():
            xpt.grad = None
            F.max_pool2d(xpt, 2).backward(gpt)

        sides["torch conv"] = torch_conv
        sides["torch max-pool"] = torch_pool
    results = {name: [] for name in sides}
    for step in sides.values():       # warm up every side once
        step()
    for _ in range(args.rounds):
        for name, step in sides.items():
            time.sleep(0.3)
            results[name].append(median_ms(step, args.repeat))

    naive = {"conv": median_ms(lambda: (conv2d_naive(x, W, b, padding=1), conv2d_naive_backward(x, W, g, padding=1)),
                               args.naive_repeat),
             "max-pool": median_ms(lambda: (max_pool2d_naive(xp, 2), max_pool2d_naive_backward(xp, gp, 2)),
                                   args.naive_repeat)}

    print(f"\nforward + backward, median ms of {args.repeat} steps, per round ({args.rounds} rounds):")
    for name, values in results.items():
        print(f"  {name:>30}: " + " ".join(f"{v:7.2f}" for v in values) + f"   median {np.median(values):7.2f}")
    for name, label in [("conv", "FastConv2D(16, 32, 3, padding=1) on (128, 16, 14, 14)"),
                        ("max-pool", "FastMaxPool2D(2) on (128, 32, 14, 14)")]:
        ours, textbook_ms = np.array(results[name]), np.array(results[name + ", textbook"])
        print(f"\n{label}:")
        print(f"  fast {np.median(ours):.2f} ms; textbook {np.median(textbook_ms):.2f} ms "
              f"({np.median(textbook_ms / ours):.1f}x the fast time); loop version {naive[name]:.1f} ms "
              f"({naive[name] / np.median(ours):.0f}x)")
        if torch is not None:
            for side, times in [("fast", ours), ("textbook", textbook_ms)]:
                ratio = times / np.array(results["torch " + name])
                print(f"  {side} / PyTorch ({np.median(results['torch ' + name]):.2f} ms): median {np.median(ratio):.2f}, "
                      f"per round " + ", ".join(f"{r:.2f}" for r in ratio) + f" (min {ratio.min():.2f}, max {ratio.max():.2f})")

    if args.profile:
        profile_conv(conv, x, g)

    fresh = FastConv2D(16, 32, 3, padding=1, rng=np.random.default_rng(0))
    in_out = (x.nbytes + y.nbytes) / 2**20
    first = peak_extra_mb(lambda: (fresh.forward(x), fresh.backward(g)))
    second = peak_extra_mb(lambda: (fresh.forward(x), fresh.backward(g)))
    kept = sum(a.nbytes for lay in fresh._layouts.values() for a in lay.values() if isinstance(a, np.ndarray))
    pool_in_out = (xp.nbytes + yp.nbytes) / 2**20
    pool_step = peak_extra_mb(lambda: (pool.forward(xp), pool.backward(gp)))
    textbook_step = peak_extra_mb(lambda: (textbook.forward(x), textbook.backward(g)))
    textbook_pool_step = peak_extra_mb(lambda: (textbook_pool.forward(xp), textbook_pool.backward(gp)))
    print(f"\nmemory (peak NumPy allocation during a step, beyond what existed before it):")
    returned = (y.nbytes + dx.nbytes) / 2**20       # what a step hands back: its output and input gradient
    print(f"  FastConv2D: input + output {in_out:.1f} MB; first step {first:.1f} MB ({first / in_out:.1f}x), of which "
          f"{kept / 2**20:.1f} MB are buffers kept for the next steps and {returned:.1f} MB the returned output and "
          f"input gradient: {first - returned:.1f} MB extra ({(first - returned) / in_out:.1f}x input + output); "
          f"later steps {second:.1f} MB ({second / in_out:.1f}x, the returned arrays included)")
    print(f"  textbook Conv2D: {textbook_step:.1f} MB ({textbook_step / in_out:.1f}x)")
    print(f"  FastMaxPool2D: input + output {pool_in_out:.1f} MB; a step {pool_step:.1f} MB "
          f"({pool_step / pool_in_out:.1f}x, the returned input gradient included); textbook MaxPool2D "
          f"{textbook_pool_step:.1f} MB ({textbook_pool_step / pool_in_out:.1f}x)")


if __name__ == "__main__":
    main()
