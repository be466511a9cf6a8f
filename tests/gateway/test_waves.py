"""align_waves: entity fetches to one subgraph are made ready together where that costs no round."""

from __future__ import annotations

from gateway.planning.plan import FetchNode
from gateway.planning.waves import align_waves


def node(i: int, service: str, deps: tuple[int, ...] = (), *, entity: bool = True) -> FetchNode:
    return FetchNode(
        id=i,
        graph=service.upper(),
        service=service,
        operation_kind="query",
        path=(),
        document="{}",
        variable_names=(),
        representations={"T": ()} if entity else None,
        representation_typenames={},
        depends_on=deps,
        field_keys=(),
    )


def deps(plan: tuple[FetchNode, ...]) -> dict[int, tuple[int, ...]]:
    return {f.id: f.depends_on for f in plan}


def test_same_depth_after_different_roots_wait_for_both() -> None:
    plan = (
        node(0, "a", entity=False),
        node(1, "b", entity=False),
        node(2, "c", (0,)),
        node(3, "c", (1,)),
    )
    assert deps(align_waves(plan)) == {0: (), 1: (), 2: (0, 1), 3: (0, 1)}


def test_an_early_fetch_nothing_waits_for_joins_a_later_one() -> None:
    # 0 -> 1(c) ; 0 -> 2(b) -> 3(c): fetch 1 can go with fetch 3
    plan = (node(0, "a", entity=False), node(1, "c", (0,)), node(2, "b", (0,)), node(3, "c", (2,)))
    assert deps(align_waves(plan))[1] == (0, 2)
    assert deps(align_waves(plan))[3] == (0, 2)


def test_an_early_fetch_that_others_wait_for_is_not_delayed() -> None:
    # 0 -> 1(c) -> 2(b) -> 3(c): delaying 1 would need 3's round before 2, impossible
    plan = (node(0, "a", entity=False), node(1, "c", (0,)), node(2, "b", (1,)), node(3, "c", (2,)))
    assert align_waves(plan) == plan


def test_an_early_fetch_is_not_delayed_past_what_waits_for_it() -> None:
    # 0 -> 1(c) -> 4(d); 0 -> 2(b) -> 3(c): 4 (depth 2) waits for 1, and 3 is at depth 2 too
    plan = (
        node(0, "a", entity=False),
        node(1, "c", (0,)),
        node(2, "b", (0,)),
        node(3, "c", (2,)),
        node(4, "d", (1,)),
    )
    assert align_waves(plan) == plan


def test_root_fetches_and_mutations_stay() -> None:
    roots = (node(0, "a", entity=False), node(1, "a", entity=False), node(2, "b", (0,)))
    assert align_waves(roots) == roots
    mutation = tuple(
        FetchNode(
            **{**{s: getattr(f, s) for s in FetchNode.__slots__}, "operation_kind": "mutation"}
        )
        for f in (
            node(0, "a", entity=False),
            node(1, "c", (0,)),
            node(2, "b", (0,)),
            node(3, "c", (2,)),
        )
    )
    assert align_waves(mutation) == mutation


def test_a_cycle_is_a_planning_error_not_a_crash() -> None:
    import pytest

    from gateway.errors import PlanningError

    plan = (node(0, "a", entity=False), node(1, "c", (0, 2)), node(2, "b", (0, 1)))
    with pytest.raises(PlanningError):
        align_waves(plan)


def test_shared_dependencies_are_no_cycle() -> None:
    # 3 waits for 1 and 2, 2 waits for 1: a diamond, not a cycle
    plan = (
        node(0, "a", entity=False),
        node(1, "b", (0,)),
        node(2, "c", (0, 1)),
        node(3, "d", (1, 2)),
    )
    assert align_waves(plan) == plan
