"""Which provider, key and upstream model serve a request."""
