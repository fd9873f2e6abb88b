"""Reference solutions to the exercises of notebook 12: try first, then compare."""
