"""The request pipeline behind HTTP: one call in, routed, tried, answered and accounted."""
