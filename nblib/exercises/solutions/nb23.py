"""Reference solutions to the exercises of notebook 23: try first, then compare."""
