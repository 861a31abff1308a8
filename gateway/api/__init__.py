"""The HTTP surface: the guard, then one routes module per client protocol."""
