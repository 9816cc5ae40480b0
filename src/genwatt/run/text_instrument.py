"""Per-phase energy of text generation with a transformers model.

``generate`` calls its stopping criteria once after every new token, the first one
included. A criterion that never stops anything therefore marks token boundaries
without touching the model's code: the ``prefill`` window runs from the call to the
first token (the whole prompt's forward plus one sampling step), then each further
token is a ``token:<i>`` window. Phases and ``other`` come from ``meter.phases``. A
call that ends early (an error, Ctrl-C) closes and drops the windows it left open.
"""

from __future__ import annotations

from typing import Any

from genwatt.meter.meter import Meter
from genwatt.meter.phases import GENERATION, PREFILL, TOKEN_PREFIX, breakdown
from genwatt.meter.result import WindowResult
from genwatt.run.instrument import GenerationRecord, abandon, begin_noted, end_noted


class InstrumentedTextModel:
    """Calls ``model.generate`` and records a ``GenerationRecord`` per call in ``results``."""

    def __init__(self, model: Any, meter: Meter | None = None) -> None:
        self.model = model
        self.meter = meter or Meter()
        self.results: list[GenerationRecord] = []
        self._current: str | None = None  # the window of the token being generated
        self._opening: list[str] = []  # names begun and not yet ended
        self._tokens = 0
        self._windows: list[WindowResult] = []

    def _on_token(self) -> None:
        if self._current is not None:
            name, self._current = self._current, None
            self._windows.append(end_noted(self.meter, self._opening, name))
        self._tokens += 1
        name = f"{TOKEN_PREFIX}{self._tokens}"
        begin_noted(self.meter, self._opening, name)
        self._current = name

    def reset(self) -> None:
        """Close and drop whatever a call left open (a no-op between calls)."""
        self._current = None
        abandon(self.meter, self._opening)

    def generate(self, **kwargs: Any) -> Any:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        instrument = self

        class _TokenBoundary(StoppingCriteria):
            def __call__(self, input_ids: torch.Tensor, scores: Any, **_: Any) -> torch.Tensor:
                instrument._on_token()
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

        criteria = StoppingCriteriaList(kwargs.pop("stopping_criteria", None) or [])
        criteria.append(_TokenBoundary())
        self.reset()
        self._tokens, self._windows = 0, []
        try:
            with self.meter.window(GENERATION) as generation:
                begin_noted(self.meter, self._opening, PREFILL)
                self._current = PREFILL
                output = self.model.generate(**kwargs, stopping_criteria=criteria)
                # The last boundary opened a window for a token that was never generated.
                self.reset()
        finally:
            self.reset()  # after an error or Ctrl-C: drop whatever was left open
        assert generation.result is not None
        windows = [generation.result, *self._windows]
        self.results.append(GenerationRecord(windows, breakdown(windows), "token"))
        return output

    @property
    def last(self) -> GenerationRecord:
        if not self.results:
            raise RuntimeError("the instrumented model has not generated yet")
        return self.results[-1]
