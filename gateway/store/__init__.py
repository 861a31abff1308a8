"""State on disk: one SQLite file (WAL) written by one thread — migrations, the usage ledger and its crash
journal, the audit chain, client keys, accounts, model lists — and the secret store beside it."""
