"""The exercises of notebook 22."""
from nblib.exercises import Exercise

EXERCISES = []
