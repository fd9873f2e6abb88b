"""The exercises of notebook 21."""
from nblib.exercises import Exercise

EXERCISES = []
