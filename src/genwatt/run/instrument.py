"""Per-phase energy of an unmodified diffusers pipeline.

``genwatt.instrument(pipe)`` attaches to a pipeline the way diffusers itself extends
one, without touching its code:

- ``encode_prompt`` and ``vae.decode`` are wrapped on the instance (restored by
  ``detach``), giving the ``text_encode`` and ``vae_decode`` windows;
- the denoiser (``transformer``, ``transformer_2`` or ``unet``) gets torch forward
  hooks: each forward is a ``forward:<label>`` window, and the first forward of a step
  opens that step's ``step:<i>`` window;
- ``callback_on_step_end`` closes the step's window (the pipeline calls it after the
  scheduler update, so a step covers its forwards, the guidance combination and the
  scheduler step). A user's own callback is chained, not replaced.

The meter synchronises the accelerator at every boundary, so asynchronous kernels land
in the step that launched them.

Every window a call opens by name is noted before it is opened; when the call ends
early (the pipeline raised, or Ctrl-C landed anywhere, in a hook included), the
windows it left open are closed and dropped, so the meter is clean for the next call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from genwatt.errors import WindowError
from genwatt.meter.meter import Meter, Window
from genwatt.meter.phases import (
    FORWARD_PREFIX,
    GENERATION,
    STEP_PREFIX,
    TEXT_ENCODE,
    VAE_DECODE,
    PhaseBreakdown,
    breakdown,
)
from genwatt.meter.result import WindowResult

DENOISER_ATTRIBUTES = ("transformer", "transformer_2", "unet")


@dataclass(frozen=True)
class GenerationRecord:
    """Every window of one pipeline call, and its phase breakdown."""

    windows: list[WindowResult]
    breakdown: PhaseBreakdown
    step_boundaries: str  # "callback" (exact) or "forward" (pipeline without callbacks)


@dataclass
class _CallState:
    step: int = 0
    step_window: Window | None = None
    forward_window: str | None = None
    step_forwards: list[WindowResult] = field(default_factory=list)
    windows: list[WindowResult] = field(default_factory=list)
    opening: list[str] = field(default_factory=list)  # names begun and not yet ended


def begin_noted(meter: Meter, opening: list[str], name: str) -> Window:
    """``meter.begin(name)``, with ``name`` noted in ``opening`` first, so that
    ``abandon`` knows about the window even if an interrupt lands inside ``begin``."""
    opening.append(name)
    try:
        return meter.begin(name)
    except WindowError:
        opening.remove(name)  # open already, but not by this call: not ours to close
        raise


def end_noted(meter: Meter, opening: list[str], name: str) -> WindowResult:
    result = meter.end(name)
    opening.remove(name)
    return result


def abandon(meter: Meter, opening: list[str]) -> None:
    """Discard every window in ``opening`` that is still open, innermost first: they
    cover a generation that did not finish. A name that ``begin`` never got to open is
    skipped."""
    while opening:
        meter.discard(opening.pop())


class InstrumentedPipeline:
    """Calls the pipeline and records a ``GenerationRecord`` per call in ``results``."""

    def __init__(self, pipe: Any, meter: Meter | None = None, *, per_forward: bool = True) -> None:
        self.pipe = pipe
        self.meter = meter or Meter()
        self.per_forward = per_forward
        self.results: list[GenerationRecord] = []
        self._state: _CallState | None = None
        self._restore: list[Callable[[], None]] = []
        self._accepts_callback = (
            "callback_on_step_end" in inspect.signature(pipe.__call__).parameters
        )
        self._attach()

    # ---------------------------------------------------------------- public
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._state is not None:
            raise WindowError("an instrumented pipeline call is already running")
        state = self._state = _CallState()
        if self._accepts_callback:
            kwargs = self._inject_callback(kwargs)
        try:
            with self.meter.window(GENERATION) as generation:
                output = self.pipe(*args, **kwargs)
                self._close_abandoned_forward()
                self._close_step()
        finally:
            self._state = None
            abandon(self.meter, state.opening)  # nothing left after a call that finished
        assert generation.result is not None
        windows = [generation.result, *state.windows]
        record = GenerationRecord(
            windows=windows,
            breakdown=breakdown(windows),
            step_boundaries="callback" if self._accepts_callback else "forward",
        )
        self.results.append(record)
        return output

    @property
    def last(self) -> GenerationRecord:
        if not self.results:
            raise RuntimeError("the instrumented pipeline has not been called yet")
        return self.results[-1]

    def reset(self) -> None:
        """Close and drop whatever a call left open; a no-op between calls, since every
        call cleans up after itself. For runners, after each run whatever happened."""
        state, self._state = self._state, None
        if state is not None:
            abandon(self.meter, state.opening)

    def detach(self) -> None:
        """Remove every hook and wrapper; the pipeline is as it was."""
        while self._restore:
            self._restore.pop()()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)

    # -------------------------------------------------------------- windows
    def _record(self, window: Window) -> None:
        if self._state is not None and window.result is not None:
            self._state.windows.append(window.result)

    def _open_step(self) -> None:
        state = self._state
        if state is not None and state.step_window is None:
            name = f"{STEP_PREFIX}{state.step}"
            state.step_window = begin_noted(self.meter, state.opening, name)
            state.step_forwards = []

    def _close_abandoned_forward(self) -> None:
        """A forward that never reached its post-hook in a call that still finished."""
        state = self._state
        if state is not None and state.forward_window is not None:
            name, state.forward_window = state.forward_window, None
            state.step_forwards.append(end_noted(self.meter, state.opening, name))

    def _close_step(self) -> None:
        state = self._state
        if state is None or state.step_window is None:
            return
        window = state.step_window
        end_noted(self.meter, state.opening, window.name)
        self._record(window)
        state.windows.extend(_label_forwards(state.step_forwards))
        state.step_window = None
        state.step += 1

    # ---------------------------------------------------------------- hooks
    def _attach(self) -> None:
        if hasattr(self.pipe, "encode_prompt"):
            self._wrap(self.pipe, "encode_prompt", TEXT_ENCODE, before=None)
        vae = getattr(self.pipe, "vae", None)
        if vae is not None and hasattr(vae, "decode"):
            self._wrap(vae, "decode", VAE_DECODE, before=self._close_step)
        for attribute in DENOISER_ATTRIBUTES:
            module = getattr(self.pipe, attribute, None)
            if module is not None:
                self._hook_denoiser(module)

    def _wrap(
        self, owner: Any, method: str, window_name: str, before: Callable[[], None] | None
    ) -> None:
        original = getattr(owner, method)

        @functools.wraps(original)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if self._state is None:  # called outside an instrumented generation
                return original(*args, **kwargs)
            if before is not None:
                before()
            with self.meter.window(window_name) as window:
                result = original(*args, **kwargs)
            self._record(window)
            return result

        setattr(owner, method, wrapped)
        self._restore.append(lambda: delattr(owner, method))

    def _hook_denoiser(self, module: Any) -> None:
        def pre_hook(_module: Any, _args: Any, _kwargs: dict[str, Any]) -> None:
            if self._state is None:
                return
            state = self._state
            if not self._accepts_callback and state.step_window is not None:
                self._close_step()  # no callback: every forward is a step
            self._open_step()
            if self.per_forward:
                name = f"{FORWARD_PREFIX}{len(state.step_forwards)}"
                begin_noted(self.meter, state.opening, name)
                state.forward_window = name

        def post_hook(_module: Any, _args: Any, _kwargs: Any, _output: Any) -> None:
            state = self._state
            if state is None or state.forward_window is None:
                return
            name, state.forward_window = state.forward_window, None
            state.step_forwards.append(end_noted(self.meter, state.opening, name))

        pre = module.register_forward_pre_hook(pre_hook, with_kwargs=True)
        post = module.register_forward_hook(post_hook, with_kwargs=True)
        self._restore.extend([pre.remove, post.remove])

    def _inject_callback(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        user_callback = kwargs.get("callback_on_step_end")
        tensor_inputs = getattr(user_callback, "tensor_inputs", None)

        def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict) -> dict:
            self._close_step()
            if user_callback is not None:
                return user_callback(pipe, step, timestep, callback_kwargs)
            return callback_kwargs

        kwargs = dict(kwargs)
        kwargs["callback_on_step_end"] = on_step_end
        if tensor_inputs is not None:
            kwargs["callback_on_step_end_tensor_inputs"] = list(tensor_inputs)
        return kwargs


def _label_forwards(forwards: list[WindowResult]) -> list[WindowResult]:
    """Name a step's forwards by guidance branch once their number is known.

    WAN-style pipelines run the conditional branch, then the unconditional one: two
    forwards are ``cond`` and ``uncond``. One forward per step computes every branch in
    one batched call (or runs without guidance): ``all``.
    """
    if len(forwards) == 1:
        labels = ["all"]
    elif len(forwards) == 2:
        labels = ["cond", "uncond"]
    else:
        labels = [str(i) for i in range(len(forwards))]
    return [
        replace(w, name=f"{FORWARD_PREFIX}{label}")
        for w, label in zip(forwards, labels, strict=True)
    ]


def instrument(
    pipe: Any, meter: Meter | None = None, *, per_forward: bool = True
) -> InstrumentedPipeline:
    """Attach genwatt to a diffusers pipeline; call the result like the pipeline itself.

    >>> inst = genwatt.instrument(pipe)
    >>> video = inst(prompt="a red circle moves left", num_inference_steps=4)
    >>> inst.last.breakdown.phases["denoise"].energy_j
    """
    return InstrumentedPipeline(pipe, meter, per_forward=per_forward)
