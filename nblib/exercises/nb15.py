"""The exercises of notebook 15."""
from nblib.exercises import Exercise

EXERCISES = []
