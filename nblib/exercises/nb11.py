"""The exercises of notebook 11."""
from nblib.exercises import Exercise

EXERCISES = []
