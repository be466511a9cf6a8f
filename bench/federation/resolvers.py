"""Each subgraph's answers over `bench.federation.data`, as dicts whose callables are fields with
arguments (see `executable.field_resolver`), and the whole answer a gateway should give."""

from __future__ import annotations

from typing import Any

from bench.federation import data

Obj = dict[str, Any]


def _entities(loaders: dict[str, Any]) -> Any:
    def resolve(representations: list[Obj]) -> list[Obj | None]:
        out = []
        for rep in representations:
            loader = loaders.get(rep.get("__typename", ""))
            out.append(loader(rep) if loader else None)
        return out

    return resolve


# accounts
def account(user: data.User) -> Obj:
    return {
        "__typename": "User",
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "birthday": user.birthday,
    }


ACCOUNTS: Obj = {
    "me": lambda: account(data.USERS[0]),
    "user": lambda id: account(data.USER_BY_ID[id]) if id in data.USER_BY_ID else None,
    "users": lambda: [account(u) for u in data.USERS],
    "_entities": _entities({"User": lambda rep: account(data.USER_BY_ID[rep["id"]])}),
}


# products
def product(p: data.Product) -> Obj:
    return {
        "__typename": "Product",
        "upc": p.upc,
        "name": p.name,
        "price": p.price,
        "weight": p.weight,
    }


PRODUCTS: Obj = {
    "topProducts": lambda first=5: [product(p) for p in data.PRODUCTS[:first]],
    "_entities": _entities({"Product": lambda rep: product(data.PRODUCT_BY_UPC[rep["upc"]])}),
}


# reviews
def review(r: data.Review) -> Obj:
    return {
        "__typename": "Review",
        "id": r.id,
        "body": r.body,
        "author": lambda: review_author(r.author_id),
        "product": lambda: reviewed_product(r.upc),
    }


def review_author(user_id: str) -> Obj:
    user = data.USER_BY_ID[user_id]
    return {
        "__typename": "User",
        "id": user.id,
        "username": user.username,
        "reviews": lambda: [review(r) for r in data.reviews_by(user.id)],
    }


def reviewed_product(upc: str) -> Obj:
    return {
        "__typename": "Product",
        "upc": upc,
        "reviews": lambda: [review(r) for r in data.reviews_of(upc)],
    }


REVIEWS: Obj = {
    "_entities": _entities(
        {
            "Review": lambda rep: review(data.REVIEW_BY_ID[rep["id"]]),
            "User": lambda rep: review_author(rep["id"]),
            "Product": lambda rep: reviewed_product(rep["upc"]),
        }
    ),
}


# inventory
def stock(rep: Obj) -> Obj:
    return {
        "__typename": "Product",
        "upc": rep["upc"],
        "inStock": data.in_stock(rep["upc"]),
        "shippingEstimate": data.shipping_estimate(rep.get("price"), rep.get("weight")),
    }


INVENTORY: Obj = {"_entities": _entities({"Product": stock})}

ROOTS = {"accounts": ACCOUNTS, "products": PRODUCTS, "reviews": REVIEWS, "inventory": INVENTORY}


# the whole answer, resolved without any gateway
def _user(u: data.User) -> Obj:
    return {
        "id": u.id,
        "username": u.username,
        "name": u.name,
        "reviews": lambda: [_review(r) for r in data.reviews_by(u.id)],
    }


def _product(p: data.Product) -> Obj:
    return {
        "inStock": data.in_stock(p.upc),
        "name": p.name,
        "price": p.price,
        "shippingEstimate": data.shipping_estimate(p.price, p.weight),
        "upc": p.upc,
        "weight": p.weight,
        "reviews": lambda: [_review(r) for r in data.reviews_of(p.upc)],
    }


def _review(r: data.Review) -> Obj:
    return {
        "id": r.id,
        "body": r.body,
        "author": lambda: _user(data.USER_BY_ID[r.author_id]),
        "product": lambda: _product(data.PRODUCT_BY_UPC[r.upc]),
    }


def _select(value: Any, shape: Any) -> Any:
    if callable(value):
        value = value()
    if shape is None:
        return value
    if isinstance(value, list):
        return [_select(item, shape) for item in value]
    return {key: _select(value[key], sub) for key, sub in shape.items()}


_PRODUCT = dict.fromkeys(("inStock", "name", "price", "shippingEstimate", "upc", "weight"))
_USER = dict.fromkeys(("id", "username", "name"))
_REVIEW = dict.fromkeys(("id", "body"))
_DEEP_USER = {**_USER, "reviews": {**_REVIEW, "product": _PRODUCT}}
_PRODUCT_REVIEWS = {**_PRODUCT, "reviews": {**_REVIEW, "author": _DEEP_USER}}
QUERY_SHAPE = {
    "users": {**_USER, "reviews": {**_REVIEW, "product": _PRODUCT_REVIEWS}},
    "topProducts": _PRODUCT_REVIEWS,
}


def expected_answer() -> Obj:
    """What the deep query (query.graphql) must answer, built straight from the data."""
    everything = {
        "users": [_user(u) for u in data.USERS],
        "topProducts": [_product(p) for p in data.PRODUCTS[:5]],
    }
    return {"data": _select(everything, QUERY_SHAPE)}
