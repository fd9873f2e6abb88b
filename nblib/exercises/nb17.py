"""The exercises of notebook 17."""
from nblib.exercises import Exercise

EXERCISES = []
