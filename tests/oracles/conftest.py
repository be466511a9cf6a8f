from tests.oracles.hive import hive_gateway_factory

__all__ = ["hive_gateway_factory"]
