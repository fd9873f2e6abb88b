"""Speed of nblib on the full MNIST: the MLP and the CNN of notebooks 22 and 23, against PyTorch.

    python bench/bench_mnist.py                     # MLP 3 epochs, CNN 1 epoch, side by side with PyTorch
    python bench/bench_mnist.py --mlp-epochs 5 --cnn-epochs 2 --repeats 3
    python bench/bench_mnist.py --until               # also: the notebooks' recipes, time to 98% / 99%
    python bench/bench_mnist.py --skip-cnn --no-torch

Run it on the machine's default BLAS kernel: where OPENBLAS_CORETYPE is set in the environment,
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_mnist.py`.

Prints seconds per epoch and test accuracy for each model. When PyTorch is installed (it is never a
requirement of the course: `pip install torch`, the CPU build), the same models run in PyTorch in
the same process, from the same initial weights, on the same batches in the same order, and the
ratio nblib / PyTorch of their epoch times is printed (below 1.0: nblib is faster).

How it is measured (see NOTES.md): whole epochs are timed, nblib's through `fit` exactly as the
notebooks train and, beside it, through the hand-written loop of notebook 09 (forward, loss,
backward, `optimizer.step()`) on a second copy of the model; the sides alternate epoch by epoch with a pause between them, since
their thread pools slow each other down when interleaved more finely. The first epoch of each is
slower (buffers, caches, thread start-up) and is left out of the ratio, which compares the medians
of the other epochs. On a shared machine the figures drift: use --repeats and read the spread.

With --until, each model is then trained again, nblib alone, with its notebook's recipe (22: MLP,
10 epochs, cosine schedule from 1e-3; 23: CNN, 8 epochs, cosine from 2e-3), and the seconds of
training until the test accuracy first reaches 98% (MLP) or 99% (CNN) are printed. Test accuracy
is measured after every epoch; evaluation time is not counted as training time.

Hand-written infrastructure (not part of nblib). Models: MLP 784-256-128-10 with ReLU; CNN as in
notebook 23, with notebook 21's fast layers: FastConv2D(1->16, 3x3, pad 1)-FastMaxPool2D(2)-ReLU,
FastConv2D(16->32, 3x3, pad 1)-FastMaxPool2D(2)-ReLU, dense 1568-128-ReLU-10 (pooling before ReLU
gives the same function and gradients, with a quarter of the ReLU work; PyTorch runs the same order).
`--textbook` builds the CNN from notebook 18's and 19's textbook layers, conv-ReLU-pool, instead.
Adam, batch 128, float32, inputs standardised with the training set's mean and standard deviation.
"""
import argparse
import statistics
import sys
import time

import numpy as np

import nblib
from nblib import Adam, Conv2D, CosineAnnealingLR, CrossEntropy, Dense, FastConv2D, FastMaxPool2D, Flatten, MaxPool2D, ReLU, Sequential

BATCH = 128


def mlp(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(784, 256, rng=rng), ReLU(), Dense(256, 128, rng=rng), ReLU(), Dense(128, 10, rng=rng)])


def cnn(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([FastConv2D(1, 16, 3, padding=1, rng=rng), FastMaxPool2D(2), ReLU(),
                       FastConv2D(16, 32, 3, padding=1, rng=rng), FastMaxPool2D(2), ReLU(), Flatten(),
                       Dense(32 * 7 * 7, 128, rng=rng), ReLU(), Dense(128, 10, rng=rng)])


def textbook_cnn(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([Conv2D(1, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
                       Conv2D(16, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2), Flatten(),
                       Dense(32 * 7 * 7, 128, rng=rng), ReLU(), Dense(128, 10, rng=rng)])


def torch_copy(model):
    """The same architecture in PyTorch, starting from the same weights."""
    import torch

    layers = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            t = torch.nn.Linear(layer.in_features, layer.out_features)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
                t.bias.copy_(torch.from_numpy(layer.params["b"]))
        elif isinstance(layer, Conv2D):
            t = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(layer.params["W"]))
                t.bias.copy_(torch.from_numpy(layer.params["b"]))
        elif isinstance(layer, ReLU):
            t = torch.nn.ReLU()
        elif isinstance(layer, MaxPool2D):
            t = torch.nn.MaxPool2d(layer.kernel_size, layer.stride)
        elif isinstance(layer, Flatten):
            t = torch.nn.Flatten()
        else:
            raise TypeError(f"no PyTorch twin for {layer!r}")
        layers.append(t)
    return torch.nn.Sequential(*layers)


class TorchRun:
    """A PyTorch model trained epoch by epoch on batches given as index orders."""

    def __init__(self, model, x, y, x_test, y_test):
        import torch

        self.torch = torch
        self.model = torch_copy(model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.x_test, self.y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)

    def epoch(self, order):
        torch = self.torch
        order = torch.from_numpy(order)
        self.model.train()
        start = time.perf_counter()
        for i in range(0, len(order), BATCH):
            batch = order[i:i + BATCH]
            self.optimizer.zero_grad()
            self.loss(self.model(self.x[batch]), self.y[batch]).backward()
            self.optimizer.step()
        return time.perf_counter() - start

    def accuracy(self):
        torch = self.torch
        self.model.eval()
        with torch.no_grad():
            correct = sum(int((self.model(self.x_test[i:i + 1000]).argmax(1) == self.y_test[i:i + 1000]).sum())
                          for i in range(0, len(self.x_test), 1000))
        return correct / len(self.x_test)


def plain_epoch(model, x, y, loss, optimizer, rng):
    """One epoch of the hand-written loop of notebook 09 (forward, loss, backward, step); seconds."""
    start = time.perf_counter()
    order = rng.permutation(len(x))
    for i in range(0, len(x), BATCH):
        batch = order[i:i + BATCH]
        loss.forward(model.forward(x[batch]), y[batch])
        model.backward(loss.backward())
        optimizer.step()
    return time.perf_counter() - start


def compare(name, make, x, y, x_test, y_test, epochs, use_torch, pause, seed=1):
    """Train nblib with fit, nblib with a plain loop (and PyTorch) side by side for `epochs` with
    Adam(lr=1e-3). Returns the per-epoch times {side: [seconds, ...]}."""
    model, loop_model = make(), make()
    optimizer, loop_optimizer, loss = Adam(model.parameters(), lr=1e-3), Adam(loop_model.parameters(), lr=1e-3), CrossEntropy()
    run = TorchRun(model, x, y, x_test, y_test) if use_torch else None
    fit_rng = np.random.default_rng(seed)     # fit draws one permutation per epoch from it ...
    loop_rng = np.random.default_rng(seed)    # ... the plain loop the same ones ...
    order_rng = np.random.default_rng(seed)   # ... and this twin the same ones for PyTorch
    times = {"nblib": [], "loop": [], "torch": []}
    print(f"\n{name}: {model.num_params():,} parameters, batch {BATCH}, Adam(lr=1e-3), float32")
    for epoch in range(1, epochs + 1):
        history = model.fit(x, y, loss, optimizer, epochs=1, batch_size=BATCH, rng=fit_rng, verbose=False)
        order = order_rng.permutation(len(x))
        seconds = history["time"][0]
        times["nblib"].append(seconds)
        line = f"  epoch {epoch:>2}  fit {seconds:6.2f} s  test {model.evaluate(x_test, y_test, loss)['accuracy']:.2%}"
        time.sleep(pause)
        times["loop"].append(plain_epoch(loop_model, x, y, loss, loop_optimizer, loop_rng))
        line += f"  | plain loop {times['loop'][-1]:6.2f} s"
        if run is not None:
            time.sleep(pause)
            t = run.epoch(order)
            times["torch"].append(t)
            line += f"  | torch {t:6.2f} s  test {run.accuracy():.2%}   ratios {seconds / t:.2f} (fit), {times['loop'][-1] / t:.2f} (loop)"
            time.sleep(pause)
        print(line, flush=True)
    if len(times["torch"]) > 1:
        a, c, b = times["nblib"][1:epochs], times["loop"][1:epochs], times["torch"][1:]
        print(f"  epochs after the first, median (fastest): fit {statistics.median(a):.2f} s ({min(a):.2f}), "
              f"plain loop {statistics.median(c):.2f} s ({min(c):.2f}), torch {statistics.median(b):.2f} s ({min(b):.2f}); "
              f"ratios fit {statistics.median(a) / statistics.median(b):.2f}, loop {statistics.median(c) / statistics.median(b):.2f}")
    return times


class _TestAccuracy:
    """A fit callback: prints the test accuracy after every epoch and notes when it first reaches `target`."""

    def __init__(self, x_test, y_test, target):
        self.x_test, self.y_test, self.target, self.reached = x_test, y_test, target, None

    def __call__(self, model, epoch, history):
        accuracy = model.evaluate(self.x_test, self.y_test, CrossEntropy())["accuracy"]
        trained = sum(history["time"])   # fit's epoch times: training only, no evaluation
        print(f"  epoch {epoch + 1:>2}  {history['time'][-1]:6.2f} s  lr {history['lr'][-1]:.1e}  "
              f"test {accuracy:.2%}  ({trained:.1f} s of training)", flush=True)
        if self.reached is None and accuracy >= self.target:
            self.reached = (epoch + 1, trained)
        return False


def recipe(name, make, x, y, x_test, y_test, epochs, lr_max, target):
    """The notebook's recipe (Adam with a cosine schedule from lr_max down to 1e-5), nblib alone."""
    progress = _TestAccuracy(x_test, y_test, target)
    print(f"\n{name}, the notebook's recipe: {epochs} epochs, cosine schedule from {lr_max:g}")
    model = make()
    optimizer = Adam(model.parameters(), lr=lr_max)
    schedule = CosineAnnealingLR(optimizer, T_max=epochs, eta_min=1e-5)   # notebook 16
    model.fit(x, y, CrossEntropy(), optimizer, epochs=epochs, batch_size=BATCH,
              rng=np.random.default_rng(0), callbacks=[progress, schedule], verbose=False)
    print(f"  {target:.0%} test accuracy: " + (f"after epoch {progress.reached[0]}, {progress.reached[1]:.1f} s of "
                                              f"training" if progress.reached else f"not reached in {epochs} epochs"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mlp-epochs", type=int, default=3)
    parser.add_argument("--cnn-epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="run everything this many times")
    parser.add_argument("--until", action="store_true",
                        help="also train with the notebooks' recipes and time the way to 98%% (MLP) and 99%% (CNN)")
    parser.add_argument("--skip-mlp", action="store_true")
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--no-torch", action="store_true", help="nblib only, even if PyTorch is installed")
    parser.add_argument("--textbook", action="store_true", help="the CNN from the textbook layers (18, 19)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of rest between the two libraries")
    args = parser.parse_args(argv)

    use_torch = not args.no_torch
    if use_torch:
        try:
            import torch
            print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        except ImportError:
            print("PyTorch is not installed: nblib alone (pip install torch to compare)")
            use_torch = False
    print(f"NumPy {np.__version__}, nblib from {nblib.__file__}")

    x_train, y_train, x_test, y_test = nblib.load_mnist()
    mu, sigma = x_train.astype(np.float32).mean(), x_train.astype(np.float32).std()
    x_train = ((x_train.astype(np.float32) - mu) / sigma).astype(np.float32)
    x_test = ((x_test.astype(np.float32) - mu) / sigma).astype(np.float32)
    results, cnn_model = {}, textbook_cnn if args.textbook else cnn
    for repeat in range(args.repeats):
        if args.repeats > 1:
            print(f"\n=== repeat {repeat + 1} of {args.repeats} ===")
        if not args.skip_mlp:
            results.setdefault("MLP", []).append(compare(
                "MLP 784-256-128-10", mlp, x_train.reshape(-1, 784), y_train, x_test.reshape(-1, 784), y_test,
                args.mlp_epochs, use_torch, args.pause))
        if not args.skip_cnn:
            results.setdefault("CNN", []).append(compare(
                "CNN conv16-pool-conv32-pool-dense128", cnn_model, x_train[:, None], y_train, x_test[:, None], y_test,
                args.cnn_epochs, use_torch, args.pause))
    if args.until:
        if not args.skip_mlp:
            recipe("MLP 784-256-128-10", mlp, x_train.reshape(-1, 784), y_train, x_test.reshape(-1, 784), y_test,
                   epochs=10, lr_max=1e-3, target=0.98)
        if not args.skip_cnn:
            recipe("CNN conv16-pool-conv32-pool-dense128", cnn_model, x_train[:, None], y_train, x_test[:, None], y_test,
                   epochs=8, lr_max=2e-3, target=0.99)
    if args.repeats > 1:
        print("\nspread over the repeats (epochs after the first of each run; the CNN's first epoch if it ran one):")
        for name, runs in results.items():
            for library in ("nblib", "loop", "torch"):
                t = [s for r in runs for s in (r[library][1:] if len(r[library]) > 1 else r[library])]
                if t:
                    print(f"  {name} {library:>5}: min {min(t):.2f} s, median {statistics.median(t):.2f} s, "
                          f"max {max(t):.2f} s per epoch ({len(t)} epochs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
