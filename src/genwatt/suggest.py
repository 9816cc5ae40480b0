""" "Did you mean" suggestions for a mistyped name, each meant name offered once.

Why a helper: lookups match a typed word against every alias of every entry, so the
closest keys are often several aliases of one entry, and a plain ``get_close_matches``
offered "rtx-4090, rtx-4090, rtx-4090". Here keys are matched, then the names they stand
for are de-duplicated, best first.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping


def close_names(
    word: str,
    names_by_key: Mapping[str, str],
    *,
    n: int = 3,
    cutoff: float = 0.5,
    shown: Mapping[str, str] | None = None,
) -> list[str]:
    """Up to ``n`` suggestions for ``word``, one per distinct name, best first.

    ``names_by_key`` maps every key a lookup accepts to the entry it names; each entry
    is suggested once, as its closest key is written in ``shown`` (default: its name).
    """
    keys = difflib.get_close_matches(word, list(names_by_key), n=len(names_by_key), cutoff=cutoff)
    best: dict[str, str] = {}
    for key in keys:
        best.setdefault(names_by_key[key], (shown or names_by_key)[key])
    return list(best.values())[:n]
