"""The exercises of notebook 10."""
from nblib.exercises import Exercise

EXERCISES = []
