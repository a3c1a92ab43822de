"""Serving the public and staff: accounts, rate limits, feedback, finding a running server."""
