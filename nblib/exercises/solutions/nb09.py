"""Reference solutions to the exercises of notebook 09: try first, then compare."""
