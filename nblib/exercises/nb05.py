"""The exercises of notebook 05."""
from nblib.exercises import Exercise

EXERCISES = []
