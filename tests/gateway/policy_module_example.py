"""A policy module as an operator writes one (`rugzak serve --policy-module ...`)."""

from __future__ import annotations

from gateway.policies import FieldRequest


def _municipal_staff(request: FieldRequest) -> bool:
    return request.principal.is_staff and request.principal.organisation is not None


POLICIES = {"municipal-staff": _municipal_staff}
