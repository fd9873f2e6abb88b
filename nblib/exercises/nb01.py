"""The exercises of notebook 01."""
from nblib.exercises import Exercise

EXERCISES = []
