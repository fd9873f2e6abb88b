"""Reference solutions to the exercises of notebook 19: try first, then compare."""
