"""Reference solutions to the exercises of notebook 13: try first, then compare."""
