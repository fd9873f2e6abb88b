"""Reference solutions, one module per notebook. Look here only after trying."""
