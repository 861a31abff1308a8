"""Upstream adapters: canonical calls in, upstream HTTP requests out, upstream answers back.

Adapters build requests and read answers; they never send anything (that is the transport's
job) and never choose where a request goes (that is routing's).
"""
