"""Compatibility APIs: each vendor's paths, fields and error shapes over the same service."""
