"""The exercises of notebook 22 (MNIST with a multi-layer perceptron)."""
import numpy as np

from nblib.exercises import Exercise

# ---- 1. standardising with the training set's statistics ------------------------------------------


def standardise_cases(rng):
    """uint8 images (n, H, W) to standardise with the statistics of other uint8 images: MNIST's shape,
    small ones, a single image, and a set of images much darker than the training images."""
    cases = []
    for n_train, n, (H, W), top in [(200, 50, (28, 28), 256), (30, 7, (4, 5), 256), (40, 1, (28, 28), 256),
                                    (25, 10, (6, 6), 60)]:
        train = rng.integers(0, 256, (n_train, H, W)).astype(np.uint8)
        train[:, :H // 4] = 0                                       # black borders, as MNIST's
        cases.append((rng.integers(0, top, (n, H, W)).astype(np.uint8), train))
    return cases


def standardise_expected(case):
    """In float64: one mean and one standard deviation over every training pixel, then float32 rows."""
    images, train_images = case
    pixels = train_images.astype(np.float64)
    mu, sigma = pixels.mean(), pixels.std()
    return ((images.reshape(len(images), -1) - mu) / sigma).astype(np.float32)


def _rows(images):
    return images.reshape(len(images), -1).astype(np.float32)


def _per_pixel(images, train_images):
    with np.errstate(divide="ignore", invalid="ignore"):     # the border's std is 0
        return (_rows(images) - _rows(train_images).mean(axis=0)) / _rows(train_images).std(axis=0)


# ---- 2. the confusion matrix -------------------------------------------------------------------------


def confusion_cases(rng):
    """Labels and predictions, mostly right as a trained model's: ten classes, three, a class that
    never occurs, one example."""
    cases = []
    for n, classes in [(200, 10), (30, 3), (60, 10), (1, 10), (500, 4)]:
        labels = rng.integers(0, classes, n)
        predicted = np.where(rng.random(n) < 0.7, labels, rng.integers(0, classes, n))
        if n == 60:
            labels[labels == 9], predicted[predicted == 9] = 8, 8   # digit 9 never appears
        cases.append((labels, predicted, classes))
    return cases


def confusion_expected(case):
    """One loop over the examples: row = the true class, column = the predicted one."""
    labels, predicted, classes = case
    counts = np.zeros((classes, classes), dtype=np.int64)
    for true, said in zip(labels, predicted):
        counts[true, said] += 1
    return counts


def _fancy_add(labels, predicted, classes=10):
    counts = np.zeros((classes, classes), dtype=np.int64)
    counts[labels, predicted] += 1
    return counts


def _transposed(labels, predicted, classes=10):
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (predicted, labels), 1)
    return counts


def _from_observed(labels, predicted, classes=10):
    classes = int(max(labels.max(), predicted.max())) + 1
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


# ---- 3. the most confident mistakes -------------------------------------------------------------------


def mistakes_cases(rng):
    """Probabilities (softmax of random logits) and labels, with about half the predictions wrong; one
    case with fewer mistakes than asked for, one with a single example."""
    cases = []
    for n, classes, k, right_share in [(100, 10, 12, 0.5), (40, 3, 5, 0.6), (30, 10, 8, 0.9), (1, 10, 3, 0.0),
                                       (200, 10, 1, 0.8)]:
        logits = 3 * rng.standard_normal((n, classes))
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        labels = np.where(rng.random(n) < right_share, p.argmax(axis=1), rng.integers(0, classes, n))
        if n == 30:
            labels = p.argmax(axis=1)
            labels[:5] = (labels[:5] + 1) % classes                  # only 5 mistakes: fewer than k
        cases.append((p, labels, k))
    return cases


def mistakes_expected(case):
    """By hand: every wrong example with its confidence (its top probability), sorted, the k first."""
    p, labels, k = case
    wrong = [(-p[i].max(), i) for i in range(len(labels)) if p[i].argmax() != labels[i]]
    return np.array([i for _, i in sorted(wrong)[:k]], dtype=np.int64)


def _confident_including_right(probabilities, labels, k):
    return np.argsort(-probabilities.max(axis=1))[:k]


def _least_confident(probabilities, labels, k):
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    return wrong[np.argsort(probabilities[wrong].max(axis=1))][:k]


def _true_class_probability(probabilities, labels, k):
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    return wrong[np.argsort(-probabilities[wrong, labels[wrong]])][:k]


def _positions_in_wrong(probabilities, labels, k):
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    return np.argsort(-probabilities[wrong].max(axis=1))[:k]


EXERCISES = [
    Exercise(
        name="standardise",
        notebook="22_mnist_mlp",
        title="Standardise images with the mean and standard deviation of the training images",
        cases=standardise_cases,
        expected=standardise_expected,
        describe=lambda case: f"(images {case[0].shape}, train_images {case[1].shape}, uint8)",
        mistakes=[
            ("the mean and the standard deviation must come from train_images, whatever images you "
             "standardise: the validation and test sets must not leak into anything we fit",
             lambda images, train_images: ((_rows(images) - _rows(images).mean()) / _rows(images).std())),
            ("one mean and one standard deviation over all the training pixels, not one per pixel position "
             "(a pixel of the black border has a standard deviation of 0)",
             _per_pixel),
            ("the result must be float32, as the network's weights: np.mean of uint8 images is a float64 "
             "number, and a float64 number turns float32 arithmetic into float64",
             lambda images, train_images: (_rows(images) - train_images.mean()) / train_images.std()),
            ("each image becomes one row of H * W numbers: reshape to (n, H * W)",
             lambda images, train_images: ((images.astype(np.float32) - train_images.mean())
                                           / train_images.std()).astype(np.float32)),
            ("dividing by 255 puts the pixels between 0 and 1, but their mean is not 0 nor their spread 1: "
             "subtract the training mean, divide by the training standard deviation",
             lambda images, train_images: _rows(images) / np.float32(255)),
        ],
        rtol=1e-5, atol=1e-5, check_dtype=True,
    ),
    Exercise(
        name="confusion_matrix",
        notebook="22_mnist_mlp",
        title="The confusion matrix: how often each true class was given each prediction",
        cases=confusion_cases,
        expected=confusion_expected,
        describe=lambda case: f"({len(case[0])} labels, {case[2]} classes)",
        mistakes=[
            ("counts[labels, predicted] += 1 adds 1 once per distinct pair, however often the pair repeats "
             "(NumPy reads all the old values, then writes): use np.add.at(counts, (labels, predicted), 1) "
             "or a loop", _fancy_add),
            ("rows are the true classes and columns the predictions: your matrix is transposed", _transposed),
            ("the matrix is classes x classes even when a class never occurs: use the `classes` argument, "
             "not the largest label seen", _from_observed),
        ],
        rtol=0, atol=0,
    ),
    Exercise(
        name="most_confident_mistakes",
        notebook="22_mnist_mlp",
        title="The k wrong predictions made with the highest probability, most confident first",
        cases=mistakes_cases,
        expected=mistakes_expected,
        describe=lambda case: f"(probabilities {case[0].shape}, k = {case[2]})",
        mistakes=[
            ("only the mistakes count: keep the examples whose top class differs from the label first, "
             "then sort them", _confident_including_right),
            ("most confident first: sort by the top probability in decreasing order (np.argsort sorts "
             "increasing: sort -p)", _least_confident),
            ("the confidence of a prediction is the probability of the class it predicts (the largest), "
             "not the probability of the true class", _true_class_probability),
            ("np.argsort over the mistakes gives positions in the list of mistakes: index that list with "
             "them to get the examples' indices", _positions_in_wrong),
        ],
        rtol=0, atol=0,
    ),
]
