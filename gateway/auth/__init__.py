"""Credentials the gateway checks: the local admin token (client keys and admin login come next)."""
