"""The exercises of notebook 24."""
from nblib.exercises import Exercise

EXERCISES = []
