"""The exercises of notebook 14."""
from nblib.exercises import Exercise

EXERCISES = []
