"""Reference solutions to the exercises of notebook 08: try first, then compare."""
