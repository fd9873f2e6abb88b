"""The exercises of notebook 16."""
from nblib.exercises import Exercise

EXERCISES = []
