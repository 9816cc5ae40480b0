"""Silence diffusers' notices and progress bars while genwatt drives it, then restore them.

Why: ``genwatt mitigate`` enables diffusers' experimental cache hooks and loads weights
many times; diffusers then prints "purely experimental feature" notices, deprecation
``FutureWarning``s and loading progress bars between genwatt's own lines, which read as
faults of the comparison. Why scoped: genwatt is a library too, and a user who calls it
from a notebook keeps the diffusers verbosity, progress bars and warning filters they
set, once the block ends.

What stays: diffusers' errors (verbosity is lowered to ``ERROR``, not off), and every
warning not raised by diffusers' code or about its experimental features, genwatt's own
included.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import ModuleType

#: Libraries whose logging module has diffusers' (and transformers') verbosity and
#: progress-bar switches; the ones installed are quietened.
LOGGING_MODULES = ("diffusers.utils.logging", "transformers.utils.logging")
#: Warnings from these modules are diffusers' own.
DIFFUSERS_MODULES = r"diffusers(\.|$)"
#: diffusers' notices about its experimental features (raised with a caller's stack level,
#: so they may not name a diffusers module).
EXPERIMENTAL_NOTICE = r"(?i).*\bexperimental\b"


def _logging_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@contextmanager
def _quiet_library(logging: ModuleType) -> Iterator[None]:
    """Verbosity ``ERROR`` and no progress bars for one library, restored on exit."""
    level = logging.get_verbosity()
    bars = logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()


@contextmanager
def quiet_diffusers() -> Iterator[None]:
    """Within the block: diffusers logs errors only, shows no progress bars, and its
    ``FutureWarning``/``UserWarning``s are ignored; everything is restored on exit."""
    with ExitStack() as stack:
        for name in LOGGING_MODULES:
            logging = _logging_module(name)
            if logging is not None:
                stack.enter_context(_quiet_library(logging))
        stack.enter_context(warnings.catch_warnings())
        for category in (FutureWarning, UserWarning):
            warnings.filterwarnings("ignore", category=category, module=DIFFUSERS_MODULES)
            warnings.filterwarnings("ignore", message=EXPERIMENTAL_NOTICE, category=category)
        yield
