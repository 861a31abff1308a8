"""What differs per OS: start at login."""
