"""Reference solutions to the exercises of notebook 25: try first, then compare."""
