"""Reference solutions to the exercises of notebook 05: try first, then compare."""
