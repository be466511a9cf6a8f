"""The benchmark's data, made up and deterministic: users who each wrote a few reviews of
products, every product reviewed as often. Sized so that the deep query answers about 85 KB."""

from __future__ import annotations

from dataclasses import dataclass

USER_COUNT = 8
REVIEWS_PER_USER = 3
WORDS = [
    "solid",
    "sturdy",
    "light",
    "heavy",
    "cheap",
    "pricey",
    "quiet",
    "loud",
    "bright",
    "compact",
    "roomy",
    "handy",
    "fragile",
    "durable",
    "elegant",
    "plain",
]


@dataclass(frozen=True)
class User:
    id: str
    name: str
    username: str
    birthday: int


@dataclass(frozen=True)
class Product:
    upc: str
    name: str
    price: int
    weight: int


@dataclass(frozen=True)
class Review:
    id: str
    body: str
    author_id: str
    upc: str


def _body(n: int) -> str:
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(8)]
    return f"Review {n}: " + " ".join(words) + "."


USERS = [
    User(str(i), f"User Number {i}", f"user{i}", 631152000 + i * 86400)
    for i in range(1, USER_COUNT + 1)
]
PRODUCTS = [
    Product(str(i), f"Product {i}", 100 + (i * 37) % 1500, 10 + (i * 13) % 90)
    for i in range(1, USER_COUNT + 1)
]
REVIEWS = [
    Review(
        str(n),
        _body(n),
        USERS[(n - 1) // REVIEWS_PER_USER].id,
        PRODUCTS[(n - 1 + (n - 1) // REVIEWS_PER_USER) % len(PRODUCTS)].upc,
    )
    for n in range(1, USER_COUNT * REVIEWS_PER_USER + 1)
]
USER_BY_ID = {u.id: u for u in USERS}
PRODUCT_BY_UPC = {p.upc: p for p in PRODUCTS}
REVIEW_BY_ID = {r.id: r for r in REVIEWS}


def reviews_by(author_id: str) -> list[Review]:
    return [r for r in REVIEWS if r.author_id == author_id]


def reviews_of(upc: str) -> list[Review]:
    return [r for r in REVIEWS if r.upc == upc]


def in_stock(upc: str) -> bool:
    return int(upc) % 4 != 0


def shipping_estimate(price: int | None, weight: int | None) -> int | None:
    """Inventory's @requires(fields: "price weight"): free above 1000, else half the weight."""
    if price is None or weight is None:
        return None
    return 0 if price > 1000 else weight // 2
