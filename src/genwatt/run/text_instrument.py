"""Per-phase energy of text generation with a transformers model.

``generate`` calls its stopping criteria once after every new token, the first one
included. A criterion that never stops anything therefore marks token boundaries
without touching the model's code: the ``prefill`` window runs from the call to the
first token (the whole prompt's forward plus one sampling step), then each further
token is a ``token:<i>`` window. Phases and ``other`` come from ``run.phases``.
"""

from __future__ import annotations

from typing import Any

from genwatt.meter.meter import Meter, Window
from genwatt.run.instrument import GenerationRecord
from genwatt.run.phases import GENERATION, PREFILL, TOKEN_PREFIX, breakdown


class InstrumentedTextModel:
    """Calls ``model.generate`` and records a ``GenerationRecord`` per call in ``results``."""

    def __init__(self, model: Any, meter: Meter | None = None) -> None:
        self.model = model
        self.meter = meter or Meter()
        self.results: list[GenerationRecord] = []
        self._open: Window | None = None
        self._tokens = 0
        self._windows: list[Any] = []

    def _on_token(self) -> None:
        if self._open is not None:
            self._windows.append(self.meter.end(self._open.name))
        self._tokens += 1
        self._open = self.meter.begin(f"{TOKEN_PREFIX}{self._tokens}")

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
        self._tokens, self._windows = 0, []
        with self.meter.window(GENERATION) as generation:
            self._open = self.meter.begin(PREFILL)
            try:
                output = self.model.generate(**kwargs, stopping_criteria=criteria)
            finally:
                # The last boundary opened a window for a token that was never generated.
                if self._open is not None:
                    self.meter.end(self._open.name)
                    self._open = None
        assert generation.result is not None
        # The window opened by the final boundary covered no token: drop it.
        windows = [generation.result, *self._windows]
        self.results.append(GenerationRecord(windows, breakdown(windows), "token"))
        return output

    @property
    def last(self) -> GenerationRecord:
        if not self.results:
            raise RuntimeError("the instrumented model has not generated yet")
        return self.results[-1]
