"""Reference solutions to the exercises of notebook 03: try first, then compare."""
