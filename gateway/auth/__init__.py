"""Credentials the gateway checks: client keys, the admin's login and sessions, the local admin token."""
