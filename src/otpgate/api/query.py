"""Query-string helpers."""

from __future__ import annotations


def query_number(value: str) -> str:
    """`?to=+44…` arrives as `" 44…"` when the client did not encode the plus as %2B."""
    return "+" + value[1:] if value.startswith(" ") and value[1:2].isdigit() else value
