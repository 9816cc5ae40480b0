"""Reuse of earlier generations: hand back a stored clip, or restart from a stored latent.

Why: a service sees the same and nearly the same prompts again and again, and the
cheapest denoising step is the one not run. Two strategies share one persistent store:

* ``ExactPromptReuse``: the same prompt (case and whitespace aside) with the same model
  and settings returns the stored clip; the denoiser does not run at all.
* ``SemanticReuse``: approximate caching after NIRVANA (Agarwal et al. 2024,
  "Approximate Caching for Efficiently Serving Text-to-Image Diffusion Models"). The
  prompt is embedded (``genwatt.mitigate.embedding``) and compared with stored prompts
  of the same model and settings. A near-duplicate returns the stored clip; a similar
  one restarts denoising from the stored generation's latent after ``K`` of ``N`` steps,
  so only ``N - K`` steps run, now conditioned on the new prompt; anything else is
  generated in full and stored. Early steps fix the layout, late steps the details, so
  the more similar the prompt, the later ``K`` may be (``restart_step``).

How a restart works: ``genwatt.mitigate.restart``. Where generations are kept and when
two calls may share them: ``genwatt.mitigate.reuse_store``.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from genwatt.errors import ConfigError
from genwatt.mitigate.restart import (
    DEFAULT_RESTART_FRACTIONS,
    capture_steps,
    restart_step,
    start_at_step,
    validated_fractions,
)
from genwatt.mitigate.reuse_store import (
    HitKind,
    NewEntry,
    ReuseStore,
    generation_settings,
    model_identity,
    settings_key,
)
from genwatt.mitigate.strategy import Strategy, run_pipeline

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

    from genwatt.mitigate.embedding import Embedder

DEFAULT_RETURN_THRESHOLD = 0.98
DEFAULT_RESTART_THRESHOLD = 0.80


@dataclass(frozen=True)
class ReuseDecision:
    """What a reuse strategy did for one call, for the runner's hit statistics.

    ``kind``: ``miss`` (generated in full), ``exact`` (same normalised prompt, stored
    clip), ``return`` (similar prompt, stored clip) or ``restart`` (denoised from the
    matched entry's latent after ``restart_step`` of ``steps``). ``similarity`` is that of
    the nearest stored prompt (``None`` when none was compared), ``stored_id`` the entry
    this call added (``None`` on a hit, or when the store refused it).
    """

    kind: HitKind
    steps: int
    similarity: float | None = None
    restart_step: int | None = None
    matched_id: int | None = None
    matched_prompt: str | None = None
    stored_id: int | None = None

    @property
    def reused(self) -> bool:
        """Anything other than a full generation."""
        return self.kind != "miss"

    @property
    def denoised_share(self) -> float:
        """The share of the denoising steps this call ran (1 on a miss, 0 on a return)."""
        if self.kind == "miss":
            return 1.0
        if self.kind == "restart" and self.restart_step is not None:
            return (self.steps - self.restart_step) / self.steps
        return 0.0


@dataclass(frozen=True)
class _Lookup:
    """One call's keys and, on an exact hit, the stored clip (``video``)."""

    call: dict[str, Any]
    key: str
    model: str
    settings: dict[str, Any]
    steps: int
    video: np.ndarray | None


class _Reuse(Strategy):
    """What both reuse strategies share: the store, the keys, generating and storing.

    Not ``repeatable``: every generation may store an entry that the next one hits, so
    running a case a second time (to time it apart from the FLOP counter) would measure
    a hit instead of what the first run did.
    """

    kind = "reuse"
    repeatable = False

    def __init__(
        self,
        store: ReuseStore | str | os.PathLike[str] | None = None,
        *,
        model_id: str | None = None,
        match_seed: bool = False,
        capture_fractions: Sequence[float] = DEFAULT_RESTART_FRACTIONS,
    ) -> None:
        self._store = store if isinstance(store, ReuseStore) else None
        self._store_path = None if isinstance(store, ReuseStore) else store
        self.model_id = model_id
        self.match_seed = match_seed
        self.capture_fractions = validated_fractions(capture_fractions)
        self.last_decision: ReuseDecision | None = None
        self._identities: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    @property
    def store(self) -> ReuseStore:
        """The reuse store, opened on first use (``default_reuse_path()`` if none given)."""
        if self._store is None:
            self._store = ReuseStore(self._store_path)
        return self._store

    def close(self) -> None:
        """Close the store if this strategy opened it."""
        if self._store is not None and self._store_path is not None:
            self._store.close()
            self._store = None

    def _key(
        self, pipe: DiffusionPipeline, call: Mapping[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        settings = generation_settings(call)
        model = self.model_id
        if model is None:
            model = self._identities.get(pipe)
            if model is None:
                model = self._identities[pipe] = model_identity(pipe)
        return settings_key(model, settings), model, settings

    def _begin(
        self, pipe: DiffusionPipeline, prompt: str, seed: int, call: Mapping[str, Any]
    ) -> _Lookup:
        """What every reuse call starts with: its keys, then the exact-prompt lookup."""
        self.last_decision = None  # a call that fails leaves no stale decision behind
        call = self.call_kwargs(call)
        key, model, settings = self._key(pipe, call)
        steps = int(settings["num_inference_steps"])
        video = self._exact(key, prompt, seed, steps)
        return _Lookup(call, key, model, settings, steps, video)

    def _seed_filter(self, seed: int) -> int | None:
        return seed if self.match_seed else None

    def _exact(self, key: str, prompt: str, seed: int, steps: int) -> np.ndarray | None:
        """The stored clip for this exact prompt, recording the hit; else ``None``."""
        hit = self.store.find_exact(key, prompt, seed=self._seed_filter(seed))
        video = self.store.video(hit.id) if hit is not None else None
        if hit is None or video is None:
            return None
        self.store.touch(hit.id)
        self.last_decision = ReuseDecision(
            "exact", steps, similarity=1.0, matched_id=hit.id, matched_prompt=hit.prompt
        )
        return video

    def _generate(
        self,
        pipe: DiffusionPipeline,
        prompt: str,
        *,
        seed: int,
        call: Mapping[str, Any],
        start: int = 0,
        latent: np.ndarray | None = None,
    ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Run the pipeline (from ``latent`` after ``start`` steps); clip and latents."""
        import torch

        wanted = set(capture_steps(int(call["num_inference_steps"]), self.capture_fractions))
        captured: dict[int, np.ndarray] = {}

        def capture(_pipe: Any, index: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            done = start + index + 1
            if done in wanted:
                captured[done] = tensors["latents"].detach().to("cpu", torch.float32).numpy()
            return {}

        full_call = {
            **call,
            "callback_on_step_end": capture,
            "callback_on_step_end_tensor_inputs": ["latents"],
        }
        if latent is None:
            return run_pipeline(pipe, prompt, seed=seed, call=full_call), captured
        full_call["latents"] = torch.from_numpy(np.array(latent, dtype=np.float32))
        with start_at_step(pipe.scheduler, start):
            video = run_pipeline(pipe, prompt, seed=seed, call=full_call)
        return video, captured

    def _store_new(
        self,
        lookup: _Lookup,
        prompt: str,
        seed: int,
        video: np.ndarray,
        latents: Mapping[int, np.ndarray],
        *,
        embedder: str | None = None,
        embedding: np.ndarray | None = None,
        source_id: int | None = None,
    ) -> int | None:
        return self.store.add(
            NewEntry(
                settings_key=lookup.key,
                model=lookup.model,
                settings=lookup.settings,
                prompt=prompt,
                seed=seed,
                steps=lookup.steps,
                video=video,
                latents=latents,
                embedder=embedder,
                embedding=embedding,
                source_id=source_id,
            )
        )


class ExactPromptReuse(_Reuse):
    """Return the stored clip of the same prompt and settings; else generate and store.

    ``store``: a ``ReuseStore`` or a path (default ``default_reuse_path()``).
    ``model_id``: the model's identity in keys (default ``model_identity(pipe)``).
    ``match_seed``: also require the same seed (default: any seed's clip is reused, as a
    service would). ``capture_fractions``: where to keep latents, so that a
    ``SemanticReuse`` sharing the store can restart from this strategy's generations.
    """

    name = "reuse-exact"
    description = "return the stored clip of an identical earlier prompt"

    def generate(
        self, pipe: DiffusionPipeline, prompt: str, *, seed: int, call: Mapping[str, Any]
    ) -> np.ndarray:
        lookup = self._begin(pipe, prompt, seed, call)
        if lookup.video is not None:
            return lookup.video
        video, latents = self._generate(pipe, prompt, seed=seed, call=lookup.call)
        stored = self._store_new(lookup, prompt, seed, video, latents)
        self.last_decision = ReuseDecision("miss", lookup.steps, stored_id=stored)
        return video


class SemanticReuse(_Reuse):
    """Reuse the generation of the most similar earlier prompt (NIRVANA-style).

    Per call: an exact match (normalised prompt) returns its clip; otherwise the prompt is
    embedded and the nearest stored prompt with the same settings is found. Cosine
    similarity ``>= return_threshold`` returns its clip; ``>= restart_threshold``
    restarts from its latent after ``restart_step(similarity)`` steps (the largest stored
    step not above it; none stored: a miss); below, a full generation. Misses are stored
    with their embedding; restarted generations too (``store_restarts``), with the latents
    they ran through. A threshold of ``None`` switches that tier off.

    Defaults, measured with all-MiniLM-L6-v2 on the toy captions ("a red circle moves
    left"): rewordings score 0.87 to 1.0 ("... left." 0.98, "the ..." 0.97, "... moving to
    the left" 0.95, "red circle going left" 0.89); another direction 0.87 to 0.97, as
    MiniLM barely tells "left" from "right" (0.95); another colour 0.62 to 0.84, another
    shape 0.67 to 0.82, two changes at most 0.81. Since rewordings and a changed
    direction overlap, only near-verbatim prompts (0.98, above every changed direction)
    return a stored clip; a restart re-runs the late steps under the new prompt, a
    return does not. 0.80 admits rewordings and one changed attribute at 10 to 40 %
    skipped steps; on the trained reference model a restart from another colour's
    latent still showed the new colour every time with up to 30 % skipped.
    """

    name = "reuse-semantic"
    description = "reuse or restart from the most similar earlier prompt's generation"

    def __init__(
        self,
        store: ReuseStore | str | os.PathLike[str] | None = None,
        *,
        embedder: Embedder | None = None,
        return_threshold: float | None = DEFAULT_RETURN_THRESHOLD,
        restart_threshold: float | None = DEFAULT_RESTART_THRESHOLD,
        restart_fractions: Sequence[float] = DEFAULT_RESTART_FRACTIONS,
        store_restarts: bool = True,
        model_id: str | None = None,
        match_seed: bool = False,
    ) -> None:
        super().__init__(
            store, model_id=model_id, match_seed=match_seed, capture_fractions=restart_fractions
        )
        for label, value in (("return", return_threshold), ("restart", restart_threshold)):
            if value is not None and not (0.0 < value <= 1.0 and math.isfinite(value)):
                raise ConfigError(
                    f"{label}_threshold must be a cosine similarity in (0, 1], or None to "
                    f"switch that tier off; got {value}"
                )
        if (
            return_threshold is not None
            and restart_threshold is not None
            and restart_threshold > return_threshold
        ):
            raise ConfigError(
                f"restart_threshold ({restart_threshold}) must not exceed return_threshold "
                f"({return_threshold}): a prompt similar enough to return a clip is similar "
                "enough to restart from it"
            )
        self.return_threshold = return_threshold
        self.restart_threshold = restart_threshold
        self.store_restarts = store_restarts
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The prompt embedder; all-MiniLM-L6-v2, loaded on first use, unless one was given."""
        if self._embedder is None:
            from genwatt.mitigate.embedding import PromptEmbedder

            self._embedder = PromptEmbedder()
        return self._embedder

    def restart_step(self, similarity: float, steps: int) -> int:
        """``restart_step`` with this strategy's thresholds and fractions."""
        if self.restart_threshold is None:
            raise ConfigError("restarts are switched off (restart_threshold=None)")
        return restart_step(
            similarity,
            steps=steps,
            restart_threshold=self.restart_threshold,
            return_threshold=self.return_threshold if self.return_threshold is not None else 1.0,
            fractions=self.capture_fractions,
        )

    def generate(
        self, pipe: DiffusionPipeline, prompt: str, *, seed: int, call: Mapping[str, Any]
    ) -> np.ndarray:
        lookup = self._begin(pipe, prompt, seed, call)
        if lookup.video is not None:
            return lookup.video
        key, steps = lookup.key, lookup.steps
        embedder = self.embedder
        identity = embedder.identity
        embedding = np.asarray(embedder.embed([prompt])[0], dtype=np.float32)
        match = self.store.nearest(key, identity, embedding, seed=self._seed_filter(seed))
        similarity = match.similarity if match is not None else None

        if match is not None and _reaches(similarity, self.return_threshold):
            video = self.store.video(match.entry.id)
            if video is not None:
                self.store.touch(match.entry.id)
                self.last_decision = ReuseDecision(
                    "return",
                    steps,
                    similarity=similarity,
                    matched_id=match.entry.id,
                    matched_prompt=match.entry.prompt,
                )
                return video

        if match is not None and _reaches(similarity, self.restart_threshold):
            wanted = self.restart_step(float(similarity or 0.0), steps)
            usable = [s for s in match.entry.latent_steps if s <= wanted]
            latent = self.store.latent(match.entry.id, max(usable)) if usable else None
            if latent is not None:
                start = max(usable)
                self.store.touch(match.entry.id)
                video, latents = self._generate(
                    pipe, prompt, seed=seed, call=lookup.call, start=start, latent=latent
                )
                stored = None
                if self.store_restarts:
                    stored = self._store_new(
                        lookup,
                        prompt,
                        seed,
                        video,
                        latents,
                        embedder=identity,
                        embedding=embedding,
                        source_id=match.entry.id,
                    )
                self.last_decision = ReuseDecision(
                    "restart",
                    steps,
                    similarity=similarity,
                    restart_step=start,
                    matched_id=match.entry.id,
                    matched_prompt=match.entry.prompt,
                    stored_id=stored,
                )
                return video

        video, latents = self._generate(pipe, prompt, seed=seed, call=lookup.call)
        stored = self._store_new(
            lookup, prompt, seed, video, latents, embedder=identity, embedding=embedding
        )
        self.last_decision = ReuseDecision("miss", steps, similarity=similarity, stored_id=stored)
        return video


def _reaches(similarity: float | None, threshold: float | None) -> bool:
    """``similarity >= threshold`` up to float32 rounding (a prompt's own dot is 0.9999999)."""
    return similarity is not None and threshold is not None and similarity >= threshold - 1e-6
