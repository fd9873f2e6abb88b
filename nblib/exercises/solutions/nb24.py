"""Reference solutions to the exercises of notebook 24: try first, then compare."""
