"""The exercises of notebook 03."""
from nblib.exercises import Exercise

EXERCISES = []
