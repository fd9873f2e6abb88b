"""The exercises of notebook 08."""
from nblib.exercises import Exercise

EXERCISES = []
