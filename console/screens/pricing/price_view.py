"""The Pricing screen's data: core's pricing read model of the running node (or of the settings while it
is stopped), and how a per-pixel price is written. Called from a worker."""

from __future__ import annotations

from fractions import Fraction

from core.payments.views import PricingView, configured_pricing, pricing_view

GWEI = 10**9


def per_pixel(price: Fraction | None) -> str:
    """wei per pixel, and the same in gwei: "1,200 wei/px (1.2e-06 gwei)"."""
    if price is None:
        return "unknown"
    wei = float(price)
    whole = f"{wei:,.0f}" if price.denominator == 1 or wei >= 1000 else f"{wei:,.3f}"
    return f"{whole} wei/px ({wei / GWEI:.3g} gwei/px)"


def load_pricing(parts, settings) -> PricingView:
    """`parts`: the running on-chain node's (core.composition.OnchainParts), or None."""
    if parts is None:
        return configured_pricing(settings.node)
    return pricing_view(parts.payments, parts.store, settings.node)
