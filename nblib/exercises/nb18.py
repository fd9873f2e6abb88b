"""The exercises of notebook 18."""
from nblib.exercises import Exercise

EXERCISES = []
