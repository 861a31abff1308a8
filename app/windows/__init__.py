"""One module per window or page."""
