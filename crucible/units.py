"""Token amounts for people: CRU has 18 decimals, like ether."""

from __future__ import annotations

from decimal import Decimal

WEI = 10**18


def cru(wei: int) -> str:
    """wei -> '12.5 CRU'."""
    return f"{Decimal(wei) / WEI:,.6f}".rstrip("0").rstrip(".") + " CRU"
