"""Real servers the team-mode tests run against: each started from Debian's package on a free loopback
port in a temporary folder, and stopped after (fixtures loaded by tests/conftest.py)."""
