"""The exercises of notebook 13."""
from nblib.exercises import Exercise

EXERCISES = []
