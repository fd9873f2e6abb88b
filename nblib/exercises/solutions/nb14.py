"""Reference solutions to the exercises of notebook 14: try first, then compare."""
