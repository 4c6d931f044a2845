"""Phone numbers for tests: named examples of each kind, and a factory of distinct mobiles."""

from __future__ import annotations

import itertools

UK_MOBILE = "+447123123456"  # the contract's example
UK_LANDLINE = "+441212345678"
US_LANDLINE_OR_MOBILE = "+12015550123"
UK_UNASSIGNED = "+447700900123"  # Ofcom's drama range: possible length, never assigned

_serial = itertools.count(1)


def new_mobile() -> str:
    """A valid UK mobile number no other call of this process returns (+447400xxxxxx)."""
    return f"+447400{next(_serial):06d}"


def new_israeli_mobile() -> str:
    """A valid Israeli mobile in national format (050-23x-xxxx), distinct within this process."""
    return f"05023{next(_serial):05d}"


def israeli_e164(national: str) -> str:
    return "+972" + national.lstrip("0")
