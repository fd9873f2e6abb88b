"""Reference solutions to the exercises of notebook 18: try first, then compare."""
