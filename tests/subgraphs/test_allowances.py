"""Allowances: Groeipakket entitlements with payments, study grant applications and decisions."""

from __future__ import annotations

from typing import Any

from resolvers.common.population import ANN_INSZ, BRAM_INSZ
from tests.gateway_issuer import GatewayIssuer
from tests.subgraphs.conftest import SUBSTANTIAL, Client

BENEFITS = """
query($insz: ID!) {
  citizen(insz: $insz) {
    childBenefits {
      id payingBody startDate
      child { givenName birthDate }
      components { category amountCents }
      payments { id category amountCents paymentDate period }
      schoolbonus: payments(category: SCHOOLBONUS) { amountCents period }
      recent: payments(since: "2025-09-01") { paymentDate }
    }
  }
}
"""
GRANTS = """
query($insz: ID!, $year: String) {
  citizen(insz: $insz) {
    studyGrantApplications(academicYear: $year) {
      reference academicYear programme submittedOn status
      institution { institutionNumber }
      decision { outcome amountCents reason decidedOn }
      payments { amountCents paymentDate }
    }
  }
}
"""


def benefits(client: Client, insz: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = client.data(BENEFITS, {"insz": insz})["citizen"]["childBenefits"]
    return result


def test_anns_groeipakket(allowances: Client) -> None:
    [entitlement] = benefits(allowances, ANN_INSZ)
    assert entitlement["payingBody"] == "INFINO"
    assert entitlement["child"] == {"givenName": "Lotte", "birthDate": "2019-03-14"}
    assert entitlement["startDate"] == "2019-03-14"
    categories = {c["category"]: c["amountCents"] for c in entitlement["components"]}
    assert set(categories) == {"BASISBEDRAG", "SCHOOLBONUS"}
    assert all(isinstance(cents, int) and cents > 0 for cents in categories.values())
    payments = entitlement["payments"]
    monthly = [p for p in payments if p["category"] == "BASISBEDRAG"]
    assert len(monthly) == 12
    assert {p["amountCents"] for p in monthly} == {categories["BASISBEDRAG"]}
    assert [p["paymentDate"] for p in payments] == sorted(
        (p["paymentDate"] for p in payments), reverse=True
    )
    assert entitlement["schoolbonus"] == [
        {"amountCents": categories["SCHOOLBONUS"], "period": "2025-08"}
    ]
    assert all(p["paymentDate"] >= "2025-09-01" for p in entitlement["recent"])
    assert len(entitlement["recent"]) == 2


def test_bram_receives_no_child_benefit(allowances: Client) -> None:
    assert benefits(allowances, BRAM_INSZ) == []


def test_anns_granted_study_grant(allowances: Client) -> None:
    [application] = allowances.data(GRANTS, {"insz": ANN_INSZ}, purpose="study-grant")["citizen"][
        "studyGrantApplications"
    ]
    assert application["academicYear"] == "2024-2025"
    assert application["status"] == "DECIDED"
    assert application["institution"] == {"institutionNumber": "031021"}
    decision = application["decision"]
    assert decision["outcome"] == "GRANTED"
    assert (
        sum(p["amountCents"] for p in application["payments"]) == decision["amountCents"] == 184_350
    )
    assert application["reference"].startswith("STT-2024-")


def test_brams_grant_is_being_processed(allowances: Client, issuer: GatewayIssuer) -> None:
    token = issuer.mint(subject="s-bram", insz=BRAM_INSZ, extra_claims=SUBSTANTIAL)
    query = "{ me { studyGrantApplications { academicYear status decision { outcome reason } } } }"
    applications = allowances.data(query, token=token)["me"]["studyGrantApplications"]
    assert applications == [
        {"academicYear": "2025-2026", "status": "IN_PROCESSING", "decision": None},
        {
            "academicYear": "2024-2025",
            "status": "DECIDED",
            "decision": {
                "outcome": "REFUSED",
                "reason": "Het gezinsinkomen overschrijdt de maximumgrens.",
            },
        },
    ]
    only = allowances.data(GRANTS, {"insz": BRAM_INSZ, "year": "2025-2026"}, purpose="study-grant")
    assert [a["status"] for a in only["citizen"]["studyGrantApplications"]] == ["IN_PROCESSING"]
