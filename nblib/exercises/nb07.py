"""The exercises of notebook 07."""
from nblib.exercises import Exercise

EXERCISES = []
