"""The exercises of notebook 19."""
from nblib.exercises import Exercise

EXERCISES = []
