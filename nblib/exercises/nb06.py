"""The exercises of notebook 06."""
from nblib.exercises import Exercise

EXERCISES = []
