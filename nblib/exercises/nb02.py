"""The exercises of notebook 02."""
from nblib.exercises import Exercise

EXERCISES = []
