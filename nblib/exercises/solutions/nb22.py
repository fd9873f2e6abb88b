"""Reference solutions to the exercises of notebook 22: try first, then compare."""
import numpy as np


def standardise(images, train_images):
    """uint8 images (n, H, W) -> float32 rows (n, H*W), standardised with the training pixels' mean and std."""
    pixels = train_images.astype(np.float32)
    mu, sigma = pixels.mean(), pixels.std()
    return ((images.reshape(len(images), -1).astype(np.float32) - mu) / sigma).astype(np.float32)


def confusion_matrix(labels, predicted, classes=10):
    """counts[t, p] = how many examples of true class t were predicted as p."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)   # not counts[labels, predicted] += 1: repeated pairs count once
    return counts


def most_confident_mistakes(probabilities, labels, k):
    """Indices of the k wrong predictions with the highest top probability, most confident first."""
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    return wrong[np.argsort(-probabilities[wrong].max(axis=1))][:k]
