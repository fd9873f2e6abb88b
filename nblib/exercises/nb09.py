"""The exercises of notebook 09."""
from nblib.exercises import Exercise

EXERCISES = []
