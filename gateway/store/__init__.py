"""State on disk: one SQLite file (WAL) written by one thread, and the secret store beside it."""
