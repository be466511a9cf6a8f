"""Operation -> query plan: which subgraph fetches to make, in what order, with what selections."""

from gateway.planning.plan import FetchNode, PathSegment, QueryPlan, RepField
from gateway.planning.planner import Planner

__all__ = ["FetchNode", "PathSegment", "Planner", "QueryPlan", "RepField"]
