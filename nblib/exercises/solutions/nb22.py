"""Reference solutions to the exercises of notebook 22: try first, then compare."""
