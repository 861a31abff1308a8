"""The headless command line; every command goes through the admin door."""
