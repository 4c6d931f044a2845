"""Test tables whose rows begin with the case's name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest


def named(table: Iterable[Sequence[Any]]) -> list[Any]:
    """Each row as a pytest parameter set: its first item is the id, the rest its values."""
    return [pytest.param(*row[1:], id=row[0]) for row in table]
