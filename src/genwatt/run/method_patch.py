"""Replacing a method on one object, and later putting back exactly what was there.

``instrument`` wraps methods on a pipeline's objects (``vae.decode``,
``scheduler.step``, ``encode_prompt``). Deleting the instance attribute on detach is
not enough: the object may have held its own attribute before (a user's compiled
``vae.decode``), and another instrumentation may have wrapped on top of ours since.
So each patch remembers what the object held, and removing it:

- puts that back when the patch is still the outermost one;
- otherwise turns the patch into a pass-through and leaves it in place, so the patch
  on top keeps working; when that one goes, it puts back what was there before the
  pass-through (the chain of removed patches is skipped).

Either way the object ends as it was once every patch is removed, in any order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_PATCH_ATTRIBUTE = "__genwatt_patch__"


@dataclass
class _Patch:
    owner: Any
    name: str
    had_own: bool  # the owner held its own attribute under ``name`` before the patch
    previous: Any  # that attribute, when ``had_own``
    active: bool = True
    function: Any = None  # the replacement installed (copies of its attributes are not it)


def patch_method(
    owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> Callable[[], None]:
    """Replace ``owner.<name>`` by ``make(current)``; return the function that removes it.

    The replacement keeps the original's name, docstring and signature (``__wrapped__``),
    which pipelines inspect (``inspect.signature(self.scheduler.step)``).
    """
    own = vars(owner)
    patch = _Patch(owner, name, had_own=name in own, previous=own.get(name))
    current = getattr(owner, name)
    replacement = make(current)

    @functools.wraps(current)
    def patched(*args: Any, **kwargs: Any) -> Any:
        if not patch.active:
            return current(*args, **kwargs)
        return replacement(*args, **kwargs)

    patch.function = patched
    setattr(patched, _PATCH_ATTRIBUTE, patch)
    setattr(owner, name, patched)

    def remove() -> None:
        patch.active = False
        if vars(owner).get(name) is patched:
            _put_back(patch)

    return remove


def _put_back(patch: _Patch) -> None:
    had_own, previous = patch.had_own, patch.previous
    while had_own:
        below = getattr(previous, _PATCH_ATTRIBUTE, None)
        if below is None or below.function is not previous or below.active:
            break
        had_own, previous = below.had_own, below.previous  # removed while covered: skip it
    if had_own:
        setattr(patch.owner, patch.name, previous)
    else:
        delattr(patch.owner, patch.name)
