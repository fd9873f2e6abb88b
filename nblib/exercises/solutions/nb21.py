"""Reference solutions to the exercises of notebook 21: try first, then compare."""
