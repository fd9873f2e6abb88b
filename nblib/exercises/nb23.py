"""The exercises of notebook 23."""
from nblib.exercises import Exercise

EXERCISES = []
