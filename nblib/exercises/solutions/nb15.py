"""Reference solutions to the exercises of notebook 15: try first, then compare."""
