"""Assurance levels (eIDAS: low < substantial < high) and whether a caller meets a minimum."""

from __future__ import annotations

ACR_LEVELS = ("low", "substantial", "high")


def meets_acr(principal_acr: str | None, minimum: str) -> bool:
    """True when `principal_acr` is a known level at or above `minimum` (a known level)."""
    if principal_acr not in ACR_LEVELS:
        return False
    return ACR_LEVELS.index(principal_acr) >= ACR_LEVELS.index(minimum)


_EIDAS = "http://eidas.europa.eu/LoA/"


def normalize_acr(acr: str | None) -> str | None:
    """A token's `acr` as one of ACR_LEVELS (also from the eIDAS URIs); None when unknown."""
    if acr is None:
        return None
    level = acr.removeprefix(_EIDAS).lower()
    return level if level in ACR_LEVELS else None
