"""What a dotdigital client reads from a refused request."""

from __future__ import annotations

from typing import Any


def the_one_failure(answer: Any) -> dict[str, Any]:
    """The ValidationFailure of a 400 answer that must hold exactly one, with its three keys."""
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/json"
    [failure] = answer.json()
    assert set(failure) == {"property", "failureCode", "details"}, failure
    return dict(failure)
