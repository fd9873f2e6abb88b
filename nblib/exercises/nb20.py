"""The exercises of notebook 20."""
from nblib.exercises import Exercise

EXERCISES = []
