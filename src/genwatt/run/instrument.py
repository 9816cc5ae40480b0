"""Per-phase energy of an unmodified diffusers pipeline.

``genwatt.instrument(pipe)`` attaches to a pipeline the way diffusers itself extends
one, without touching its code, and finds what to attach to from what the pipeline
declares (``pipeline_parts.py``), not from a list of component names:

- text and image encoders (transformers models): each forward outside a step is a
  ``text_encode`` / ``image_encode`` window; ``encode_prompt`` / ``_encode_prompt``,
  where the pipeline (or a sub-pipeline of a combined one) has them, are wrapped whole,
  so the window covers tokenisation too;
- autoencoders (``vae``, Kandinsky's ``movq``, ``vqgan``): ``decode`` is the
  ``vae_decode`` window, ``encode`` (img2img, inpainting) the ``vae_encode`` window;
- loop models (UNets, transformers, priors, ControlNets) get torch forward hooks. The
  first forward after a step ended opens the next ``step:<i>`` window. The loop model
  that runs last before the scheduler steps is the denoiser: its forwards are
  ``forward:<label>`` windows. Any other loop model in the step (a ControlNet) is a
  ``part:<component>`` window, a sub-phase inside the step, so a step covers
  everything the pipeline does in it;
- every scheduler's ``step`` is wrapped: a pipeline without a step callback ends each
  step when ``scheduler.step`` returns (one step per scheduler update, however many
  forwards ran). Where the pipeline takes ``callback_on_step_end`` (and a combined
  pipeline's ``prior_callback_on_step_end``), the callback ends the step instead, after
  the pipeline's own post-step updates; a user's own callback is chained, not replaced.
  Each scheduler is a stage: the steps of a secondary one (``prior_scheduler``) are
  ``step:prior:<i>``, so a prior and a decoder run in one call are reported apart;
- any other model component: a ``part:<component>`` window.

A part that cannot be attached, and a call that records no step although the pipeline
has loop models, is named in ``GenerationRecord.unattached`` and raises an
``InstrumentationWarning``: a breakdown never silently shows 0 steps.

``detach`` removes every hook and puts back exactly what each wrapped attribute was
(``method_patch.py``): a user's own wrapper (a compiled ``vae.decode``) survives, and
two instrumentations of one pipeline can be detached in either order.

The meter synchronises the accelerator at every boundary, so asynchronous kernels land
in the step that launched them.

Every window a call opens by name is noted before it is opened; when the call ends
early (the pipeline raised, or Ctrl-C landed anywhere, in a hook included), the
windows it left open are closed and dropped, so the meter is clean for the next call.

When the program has an MLflow or W&B run active, each call's energy per phase is
logged to it (``genwatt.trackers``; the meter itself does not log the call's
``generation`` window, so nothing is logged twice).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from genwatt.errors import WindowError
from genwatt.meter.meter import Meter, Window
from genwatt.meter.phases import (
    FORWARD_PREFIX,
    GENERATION,
    IMAGE_ENCODE,
    MAIN_STAGE,
    STEP_PREFIX,
    SUBPHASE_PREFIX,
    TEXT_ENCODE,
    VAE_DECODE,
    VAE_ENCODE,
    PhaseBreakdown,
    breakdown,
)
from genwatt.meter.result import WindowResult
from genwatt.run.method_patch import patch_method
from genwatt.run.pipeline_parts import (
    Part,
    PipelineParts,
    SchedulerPart,
    find_parts,
    sub_pipelines,
)
from genwatt.trackers import log_phases

CALLBACK_SUFFIX = "callback_on_step_end"
# diffusers' conventional prompt-encoding methods (``_encode_prompt`` in older pipelines
# such as Kandinsky's prior): wrapped whole so their windows include tokenisation.
PROMPT_METHODS = ("encode_prompt", "_encode_prompt")
_ENCODER_PHASES = {"text_encoder": TEXT_ENCODE, "image_encoder": IMAGE_ENCODE}


class InstrumentationWarning(UserWarning):
    """A part of a pipeline genwatt could not attach to: its energy lands in ``other``."""


@dataclass(frozen=True)
class GenerationRecord:
    """Every window of one pipeline call, and its phase breakdown.

    ``unattached`` names each part whose phase could not be measured, and why.
    """

    windows: list[WindowResult]
    breakdown: PhaseBreakdown
    # "callback" (the step callback ends each step), "scheduler" (scheduler.step
    # returning does), "forward" (neither exists: every denoiser forward is a step)
    step_boundaries: str
    unattached: list[str] = field(default_factory=list)


@dataclass
class _CallState:
    step_counts: dict[str, int] = field(default_factory=dict)  # per stage
    opened_steps: int = 0
    step_window: Window | None = None
    step_stage: str | None = None  # the stage whose scheduler stepped in the open step
    stepped: bool = False  # the open step's scheduler update is done
    last_loop_model: str | None = None
    forward: tuple[str, str] | None = None  # (component, window name) of the open forward
    step_forwards: list[tuple[str, WindowResult]] = field(default_factory=list)
    phase_stack: list[str | None] = field(default_factory=list)  # phase windows, nested calls
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
        self._callbacks = [
            name
            for name in inspect.signature(pipe.__call__).parameters
            if name.endswith(CALLBACK_SUFFIX)
        ]
        self._accepts_callback = bool(self._callbacks)
        self._parts: PipelineParts = find_parts(pipe)
        self._stages: dict[int, str] = {}  # id of each patched scheduler -> its stage
        self._denoisers: set[str] = set()  # loop models seen running last in a step
        self.unattached: list[str] = []
        self._attach()

    # ---------------------------------------------------------------- public
    @property
    def step_boundaries(self) -> str:
        if self._accepts_callback:
            return "callback"
        return "scheduler" if self._stages else "forward"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._state is not None:
            raise WindowError("an instrumented pipeline call is already running")
        self._patch_schedulers(find_parts(self.pipe).schedulers)  # one swapped in since
        state = self._state = _CallState()
        for name in self._callbacks:
            kwargs = self._inject_callback(kwargs, name)
        try:
            # Logged to an active MLflow/W&B run below, with its phases, not by the meter.
            with self.meter.window(GENERATION, trackers=False) as generation:
                output = self.pipe(*args, **kwargs)
                self._close_step()
        finally:
            self._state = None
            abandon(self.meter, state.opening)  # nothing left after a call that finished
        assert generation.result is not None
        windows = [generation.result, *state.windows]
        record = GenerationRecord(
            windows=windows,
            breakdown=breakdown(windows),
            step_boundaries=self.step_boundaries,
            unattached=[*self.unattached, *self._missing_steps(state)],
        )
        self.results.append(record)
        log_phases(record.breakdown)  # a no-op unless the program has a tracker run active
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
        """Remove every hook and wrapper; each wrapped attribute is what it was before."""
        while self._restore:
            self._restore.pop()()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)

    # ------------------------------------------------------------ attaching
    def _attach(self) -> None:
        for pipeline in [self.pipe, *sub_pipelines(self.pipe)]:
            for method in PROMPT_METHODS:
                if callable(getattr(pipeline, method, None)):
                    self._wrap_phase(pipeline, method, TEXT_ENCODE)
        for part in self._parts.models:
            if part.role == "autoencoder":
                self._wrap_phase(part.module, "decode", VAE_DECODE)
                if callable(getattr(part.module, "encode", None)):
                    self._wrap_phase(part.module, "encode", VAE_ENCODE)
            elif part.role == "loop_model":
                self._hook(part, self._loop_pre_hook(part.name), self._loop_post_hook(part.name))
            else:
                name = _ENCODER_PHASES.get(part.role, f"{SUBPHASE_PREFIX}{part.name}")
                self._hook(part, self._phase_pre_hook(part.name, name), self._phase_post_hook())
        self._patch_schedulers(self._parts.schedulers)
        loop_models = self._parts.with_role("loop_model")
        if not loop_models:
            names = ", ".join(p.name for p in self._parts.models) or "none"
            self._unattached(f"denoiser: no component can run a denoising step (models: {names})")
        elif not self._accepts_callback and not self._stages:
            self._unattached(
                "scheduler: no scheduler with a step() and no step callback; every forward "
                f"of {', '.join(p.name for p in loop_models)} is counted as a step"
            )

    def _unattached(self, why: str) -> None:
        self.unattached.append(why)
        warnings.warn(f"genwatt.instrument: {why}", InstrumentationWarning, stacklevel=4)

    def _missing_steps(self, state: _CallState) -> list[str]:
        loop_models = [p.name for p in self._parts.with_role("loop_model")]
        if not loop_models or state.opened_steps:
            return []
        why = (
            f"{', '.join(loop_models)}: no denoising step was recorded in this call (none of "
            "these ran inside it); its denoising energy, if any, is in 'other'"
        )
        warnings.warn(f"genwatt.instrument: {why}", InstrumentationWarning, stacklevel=3)
        return [why]

    def _hook(self, part: Part, pre: Callable[..., None], post: Callable[..., None]) -> None:
        pre_handle = part.module.register_forward_pre_hook(pre, with_kwargs=True)
        post_handle = part.module.register_forward_hook(post, with_kwargs=True)
        self._restore.extend([pre_handle.remove, post_handle.remove])

    def _patch_schedulers(self, schedulers: tuple[SchedulerPart, ...]) -> None:
        for part in schedulers:
            if id(part.scheduler) not in self._stages:
                self._stages[id(part.scheduler)] = part.stage
                self._restore.append(patch_method(part.scheduler, "step", self._step_wrapper(part)))

    def _wrap_phase(self, owner: Any, method: str, window_name: str) -> None:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                if self._state is None:  # called outside an instrumented generation
                    return original(*args, **kwargs)
                self._close_step()  # a decoder or encoder runs between steps, never in one
                self._enter_phase(window_name)
                result = original(*args, **kwargs)
                self._leave_phase()
                return result

            return wrapped

        self._restore.append(patch_method(owner, method, make))

    # ---------------------------------------------------------------- steps
    def _step_wrapper(self, part: SchedulerPart) -> Callable[..., Any]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def step(*args: Any, **kwargs: Any) -> Any:
                state = self._state
                if state is None or state.phase_stack:
                    return original(*args, **kwargs)
                if state.stepped:
                    self._close_step()  # a second update with no callback in between
                self._open_step()  # a step with no model forward (a cached one) still counts
                result = original(*args, **kwargs)
                state.step_stage, state.stepped = part.stage, True
                if not self._accepts_callback:
                    self._close_step()
                return result

            return step

        return make

    def _open_step(self) -> None:
        state = self._state
        if state is not None and state.step_window is None:
            name = f"{STEP_PREFIX}{state.opened_steps}"
            state.step_window = begin_noted(self.meter, state.opening, name)
            state.opened_steps += 1

    def _close_step(self) -> None:
        state = self._state
        if state is None or state.step_window is None:
            return
        self._close_forward()
        window = state.step_window
        result = end_noted(self.meter, state.opening, window.name)
        stage = state.step_stage or MAIN_STAGE
        index = state.step_counts.get(stage, 0)
        state.step_counts[stage] = index + 1
        name = f"{STEP_PREFIX}{index}" if stage == MAIN_STAGE else f"{STEP_PREFIX}{stage}:{index}"
        if state.last_loop_model is not None:
            self._denoisers.add(state.last_loop_model)
        inner = self._label_step_windows(state.step_forwards)
        state.windows.append(replace(result, name=name))
        state.windows.extend(
            replace(w, parent=name) if w.parent == window.name else w for w in inner
        )
        state.step_window, state.step_stage, state.stepped = None, None, False
        state.step_forwards, state.last_loop_model = [], None

    def _label_step_windows(self, forwards: list[tuple[str, WindowResult]]) -> list[WindowResult]:
        """The denoiser's forwards as ``forward:<label>``, any other loop model's as
        ``part:<component>``, in the order they ran."""
        denoiser = [w for component, w in forwards if component in self._denoisers]
        labels = iter(_forward_labels(len(denoiser)))
        named: list[WindowResult] = []
        for component, window in forwards:
            if component not in self._denoisers:
                named.append(replace(window, name=f"{SUBPHASE_PREFIX}{component}"))
            elif self.per_forward:
                named.append(replace(window, name=f"{FORWARD_PREFIX}{next(labels)}"))
        return named

    def _close_forward(self) -> None:
        state = self._state
        if state is not None and state.forward is not None:
            (component, name), state.forward = state.forward, None
            state.step_forwards.append((component, end_noted(self.meter, state.opening, name)))

    # ---------------------------------------------------------------- hooks
    def _loop_pre_hook(self, component: str) -> Callable[..., None]:
        def pre_hook(_module: Any, _args: Any, _kwargs: dict[str, Any]) -> None:
            state = self._state
            if state is None or state.phase_stack or state.forward is not None:
                return  # outside a call, or nested in another measured call
            if state.step_window is not None and (
                state.stepped or self.step_boundaries == "forward"
            ):
                self._close_step()  # the last step is over: its callback never came
            self._open_step()
            state.last_loop_model = component
            if self.per_forward or component not in self._denoisers:
                name = f"{FORWARD_PREFIX}{len(state.step_forwards)}"
                begin_noted(self.meter, state.opening, name)
                state.forward = (component, name)

        return pre_hook

    def _loop_post_hook(self, component: str) -> Callable[..., None]:
        def post_hook(_module: Any, _args: Any, _kwargs: Any, _output: Any) -> None:
            state = self._state
            if state is not None and state.forward is not None and state.forward[0] == component:
                self._close_forward()

        return post_hook

    def _phase_pre_hook(self, component: str, window_name: str) -> Callable[..., None]:
        loop_pre = self._loop_pre_hook(component)

        def pre_hook(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
            state = self._state
            if state is None:
                return
            if state.step_window is not None and not state.stepped and not state.phase_stack:
                loop_pre(module, args, kwargs)  # inside a step: a part of the step
                state.phase_stack.append(None)
                return
            self._enter_phase(window_name)

        return pre_hook

    def _phase_post_hook(self) -> Callable[..., None]:
        def post_hook(_module: Any, _args: Any, _kwargs: Any, _output: Any) -> None:
            if self._state is not None and self._state.phase_stack:
                self._leave_phase()

        return post_hook

    def _enter_phase(self, window_name: str) -> None:
        """Open ``window_name`` unless a phase window is open already (an encoder called
        inside ``encode_prompt``): the outer window covers it."""
        state = self._state
        assert state is not None
        if state.phase_stack:
            state.phase_stack.append(None)
            return
        self._close_step()
        begin_noted(self.meter, state.opening, window_name)
        state.phase_stack.append(window_name)

    def _leave_phase(self) -> None:
        state = self._state
        if state is None or not state.phase_stack:
            return
        name = state.phase_stack.pop()
        if name is None:
            if not state.phase_stack:
                self._close_forward()  # an encoder that ran as a part of a step
            return
        state.windows.append(end_noted(self.meter, state.opening, name))

    def _inject_callback(self, kwargs: dict[str, Any], parameter: str) -> dict[str, Any]:
        user_callback = kwargs.get(parameter)
        tensor_inputs = getattr(user_callback, "tensor_inputs", None)

        def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict) -> dict:
            self._close_step()
            if user_callback is not None:
                return user_callback(pipe, step, timestep, callback_kwargs)
            return callback_kwargs

        kwargs = dict(kwargs)
        kwargs[parameter] = on_step_end
        if tensor_inputs is not None:
            kwargs[f"{parameter}_tensor_inputs"] = list(tensor_inputs)
        return kwargs


def _forward_labels(count: int) -> list[str]:
    """Names for a step's denoiser forwards by guidance branch.

    WAN-style pipelines run the conditional branch, then the unconditional one: two
    forwards are ``cond`` and ``uncond``. One forward per step computes every branch in
    one batched call (or runs without guidance): ``all``.
    """
    if count == 1:
        return ["all"]
    if count == 2:
        return ["cond", "uncond"]
    return [str(i) for i in range(count)]


def instrument(
    pipe: Any, meter: Meter | None = None, *, per_forward: bool = True
) -> InstrumentedPipeline:
    """Attach genwatt to a diffusers pipeline; call the result like the pipeline itself.

    >>> inst = genwatt.instrument(pipe)
    >>> video = inst(prompt="a red circle moves left", num_inference_steps=4)
    >>> inst.last.breakdown.phases["denoise"].energy_j
    """
    return InstrumentedPipeline(pipe, meter, per_forward=per_forward)
