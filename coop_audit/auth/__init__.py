"""Logging in and out, the login throttle, language choice."""
