"""diffusers is quiet while genwatt drives it, and as the user left it afterwards."""

from __future__ import annotations

import warnings

import diffusers.utils.logging as dlog
import pytest

from genwatt.mitigate.comparison.quiet import quiet_diffusers


@pytest.fixture
def loud():
    """diffusers at its default verbosity with progress bars on; restored after."""
    level, bars = dlog.get_verbosity(), dlog.is_progress_bar_enabled()
    dlog.set_verbosity_warning()
    dlog.enable_progress_bar()
    yield
    dlog.set_verbosity(level)
    (dlog.enable_progress_bar if bars else dlog.disable_progress_bar)()


def test_notices_and_bars_are_off_inside_and_restored_after(loud, caplog) -> None:
    logger = dlog.get_logger("diffusers.hooks.faster_cache")
    with quiet_diffusers():
        assert not dlog.is_progress_bar_enabled()
        logger.warning("FasterCache is a purely experimental feature")
        logger.error("a real diffusers error")
    assert dlog.get_verbosity() == dlog.WARNING and dlog.is_progress_bar_enabled()
    logger.warning("after the block: heard again")
    heard = [r.getMessage() for r in caplog.records]
    assert heard == ["a real diffusers error", "after the block: heard again"]


def test_restored_even_when_the_block_raises(loud) -> None:
    with pytest.raises(RuntimeError), quiet_diffusers():
        raise RuntimeError("boom")
    assert dlog.get_verbosity() == dlog.WARNING and dlog.is_progress_bar_enabled()


def test_diffusers_warnings_are_dropped_and_genwatt_warnings_kept() -> None:
    def warn_from(module: str, category: type[Warning], text: str) -> None:
        warnings.warn_explicit(text, category, filename=f"{module}.py", lineno=1, module=module)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_diffusers():
            warn_from("diffusers.utils.deprecation_utils", FutureWarning, "deprecated arg")
            warn_from(
                "genwatt.mitigate.comparison.compare", UserWarning, "MagCache cache is experimental"
            )
            warn_from("genwatt.meter.meter", UserWarning, "energy counter wrapped")
            warn_from("genwatt.run.runner", FutureWarning, "genwatt option renamed")
        warn_from("diffusers.hooks", FutureWarning, "outside the block")
    messages = [str(w.message) for w in seen]
    assert messages == ["energy counter wrapped", "genwatt option renamed", "outside the block"]
