"""Helpers shared by every vendor source: the HTTP client and incremental windowing."""
