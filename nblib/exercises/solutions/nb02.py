"""Reference solutions to the exercises of notebook 02: try first, then compare."""
