"""The ``generate`` settings a genwatt pipeline's call takes, written once.

transformers' own pipelines take generation settings either as ``generate_kwargs={...}``
(speech) or as plain keywords (text generation); genwatt's generating pipelines take
both, as long as no setting comes twice.
"""

from __future__ import annotations

from typing import Any


def merged_generate_kwargs(
    generate_kwargs: dict[str, Any] | None, plain: dict[str, Any]
) -> dict[str, Any]:
    """``generate_kwargs`` and the plain keywords as one dict; a setting given both ways
    is an error rather than a silent choice."""
    twice = sorted(set(generate_kwargs or {}) & set(plain))
    if twice:
        raise ValueError(f"{twice} given both in generate_kwargs and as keywords; give them once")
    return {**(generate_kwargs or {}), **plain}
