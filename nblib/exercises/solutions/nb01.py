"""Reference solutions to the exercises of notebook 01: try first, then compare."""
