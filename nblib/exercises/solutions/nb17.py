"""Reference solutions to the exercises of notebook 17: try first, then compare."""
