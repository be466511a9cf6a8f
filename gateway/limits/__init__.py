"""Operation limits: size, lexer tokens, shape and cost, checked before the work they bound."""

from gateway.limits.settings import LimitSettings, OperationLimits

__all__ = ["LimitSettings", "OperationLimits"]
