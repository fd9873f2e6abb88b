"""The exercises of notebook 12."""
from nblib.exercises import Exercise

EXERCISES = []
