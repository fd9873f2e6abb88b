"""Reference solutions to the exercises of notebook 06: try first, then compare."""
