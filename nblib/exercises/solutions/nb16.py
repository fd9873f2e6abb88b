"""Reference solutions to the exercises of notebook 16: try first, then compare."""
