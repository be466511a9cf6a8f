"""Rugzak: an Apollo Federation v2 gateway."""
