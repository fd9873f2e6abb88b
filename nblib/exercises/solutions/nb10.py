"""Reference solutions to the exercises of notebook 10: try first, then compare."""
