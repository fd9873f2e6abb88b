"""Reference solutions to the exercises of notebook 20: try first, then compare."""
