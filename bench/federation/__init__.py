"""The public federation benchmark's shape: accounts, products, reviews and inventory subgraphs
(`@key`, `@requires`, `@provides`), their data, and the deep query (`query.graphql`)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
SUBGRAPHS = ("accounts", "products", "reviews", "inventory")
QUERY = (HERE / "query.graphql").read_text(encoding="utf-8")


def subgraph_sdl(name: str) -> str:
    return (HERE / f"{name}.graphql").read_text(encoding="utf-8")
