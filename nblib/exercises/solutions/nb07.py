"""Reference solutions to the exercises of notebook 07: try first, then compare."""
