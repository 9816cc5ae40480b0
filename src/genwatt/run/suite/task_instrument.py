"""Per-phase energy of a transformers pipeline, without changing its code.

A transformers ``Pipeline`` runs every query as ``preprocess`` -> ``forward`` ->
``postprocess`` (batched queries share one ``forward``). Wrapping those three methods
on the pipeline object gives the ``preprocess``, ``forward`` and ``postprocess``
windows. A generating model's ``forward`` calls ``generate``: forward hooks on the
model's encoder (``TaskModelSpec.encoder``) give the ``encode`` window, and on the
module run once per new token (``TaskModelSpec.decoder``) the ``prefill`` window (its
first call in a batch) and one ``token:<i>`` window per further token. The pipeline's
``forward`` window is then a container named ``generate``, so nothing is counted twice;
what ``generate`` spends outside the model (sampling, the cache) is ``other``.

One ``generation`` window covers the whole measured call, every batch included.
Windows left open by an error or Ctrl-C are discarded by ``reset``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from genwatt.meter.meter import Meter
from genwatt.meter.phases import (
    ENCODE,
    FORWARD,
    GENERATION,
    POSTPROCESS,
    PREFILL,
    PREPROCESS,
    TOKEN_PREFIX,
)
from genwatt.meter.result import WindowResult
from genwatt.run.instrument import abandon, begin_noted, end_noted

# The container window of a generating model's forward: not a phase (its parts are).
GENERATE = "generate"


def module_at(model: Any, path: str) -> Any:
    """The submodule at a dotted attribute path; ``""`` is the model itself."""
    module = model
    for name in filter(None, path.split(".")):
        module = getattr(module, name)
    return module


class InstrumentedTaskPipeline:
    """Runs a transformers pipeline with a window per phase; ``windows`` holds the last
    call's windows, and ``on_query`` (if set) is called once per finished query.

    ``decoder`` is the attribute path (from ``pipe.model``) of the module run once per
    generated token, ``""`` for the model itself; None for a model that does not
    generate. ``encoder`` is the module run once per query before generation
    (an encoder-decoder's encoder, a captioner's vision tower), or None.

    >>> inst = InstrumentedTaskPipeline(pipeline("text-generation", model=m), decoder="")
    >>> inst(["a prompt"], max_new_tokens=10, min_new_tokens=10)
    >>> breakdown(inst.windows).phases["decode"].energy_j
    """

    def __init__(
        self,
        pipe: Any,
        meter: Meter | None = None,
        *,
        encoder: str | None = None,
        decoder: str | None = None,
        on_query: Callable[[], None] | None = None,
    ) -> None:
        self.pipe = pipe
        self.meter = meter or Meter()
        self.on_query = on_query
        self.windows: list[WindowResult] = []
        self._opening: list[str] = []
        self._decoder_calls = 0
        self._active = False
        self._handles: list[Any] = []
        generates = decoder is not None
        self._forward_name = GENERATE if generates else FORWARD
        self._wrap("preprocess", PREPROCESS)
        self._wrap("forward", self._forward_name, on_begin=self._new_batch)
        self._wrap("postprocess", POSTPROCESS, on_end=self._query_done)
        if generates:
            self._hook(encoder, self._begin_encode, self._end_encode)
            self._hook(decoder, self._begin_token, self._end_token)

    def _hook(self, path: str | None, pre: Callable[..., None], post: Callable[..., None]) -> None:
        if path is None:
            return
        module = module_at(self.pipe.model, path)
        self._handles.append(module.register_forward_pre_hook(pre))
        self._handles.append(module.register_forward_hook(post))

    def _wrap(
        self,
        method: str,
        window: str,
        on_begin: Callable[[], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        original = getattr(self.pipe, method)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not self._active:
                return original(*args, **kwargs)
            if on_begin:
                on_begin()
            self._begin(window)
            result = original(*args, **kwargs)
            self._end(window)
            if on_end:
                on_end()
            if inspect.isgenerator(result):
                # A chunking pipeline's preprocess is a generator: its work runs as the
                # data loader pulls each chunk, so each pull is a window of its own.
                return self._metered(result, window)
            return result

        setattr(self.pipe, method, wrapped)

    def _metered(self, chunks: Iterator[Any], window: str) -> Iterator[Any]:
        while True:
            if not self._active:
                yield from chunks
                return
            self._begin(window)
            try:
                chunk = next(chunks)
            except StopIteration:
                self._end(window)
                return
            self._end(window)
            yield chunk

    def _begin(self, name: str) -> None:
        begin_noted(self.meter, self._opening, name)

    def _end(self, name: str) -> None:
        self.windows.append(end_noted(self.meter, self._opening, name))

    def _new_batch(self) -> None:
        self._decoder_calls = 0

    def _query_done(self) -> None:
        if self.on_query:
            self.on_query()

    def _begin_encode(self, *_: Any) -> None:
        if self._active:
            self._begin(ENCODE)

    def _end_encode(self, *_: Any) -> None:
        if self._active and ENCODE in self._opening:
            self._end(ENCODE)

    def _token_name(self) -> str:
        return PREFILL if self._decoder_calls == 0 else f"{TOKEN_PREFIX}{self._decoder_calls}"

    def _begin_token(self, *_: Any) -> None:
        if self._active:
            self._begin(self._token_name())

    def _end_token(self, *_: Any) -> None:
        if not self._active:
            return
        name = self._token_name()
        if name in self._opening:
            self._end(name)
            self._decoder_calls += 1

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Run the pipeline on ``inputs`` under one ``generation`` window."""
        self.reset()
        self.windows = []
        self._active = True
        try:
            self._begin(GENERATION)
            output = self.pipe(inputs, **kwargs)
            if not isinstance(output, dict | str):
                # A generator of inputs gives a lazy iterator of outputs: run it here,
                # inside the window.
                output = list(output)
            self._end(GENERATION)
        finally:
            self._active = False
            self.reset()
        return output

    def reset(self) -> None:
        """Discard whatever a call left open (a no-op after a finished call)."""
        abandon(self.meter, self._opening)

    def detach(self) -> None:
        """Remove the hooks (the wrapped methods pass straight through when inactive)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
