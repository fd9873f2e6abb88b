"""Reference solutions to the exercises of notebook 11: try first, then compare."""
