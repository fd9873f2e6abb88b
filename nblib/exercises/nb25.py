"""The exercises of notebook 25."""
from nblib.exercises import Exercise

EXERCISES = []
