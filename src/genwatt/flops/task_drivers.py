"""How each kind of suite model is called, phase by phase, for ``task_compute``.

A pipeline hands a model one of four call patterns, and each is replayed here on the
meta device with inputs of the pipeline's shapes:

- a single forward (classifiers, encoders, detectors, CTC): ``model(**inputs)``;
- decoder-only generation (GPT-2, OPT, Llama, BLOOMZ): a forward over the prompt with
  ``use_cache=True``, then one token at a time against the cache;
- encoder-decoder generation (T5, BART, Whisper): ``model.get_encoder()`` once, then the
  whole model from the decoder's start tokens with the encoder's output;
- a vision tower, then a text decoder: BLIP's ``text_decoder`` cross-attending the
  image, BLIP-2's OPT reading 32 query embeddings, GIT's decoder reading the image
  tokens inside its first forward (its ``image_encoder`` is hooked to the encode phase).

``generate`` asks a model that takes ``logits_to_keep`` for the last position's logits
only (transformers ``GenerationMixin._supports_logits_to_keep``); so do these calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

from genwatt.errors import ConfigError
from genwatt.flops.task_counter import Bucketed, OpCounter, Tally
from genwatt.flops.task_inputs import QueryShape
from genwatt.flops.task_result import PHASES, PassCompute
from genwatt.models.components import resolve_dtype
from genwatt.models.tasks.build import build_task_model
from genwatt.models.tasks.spec import TaskModelSpec

META = torch.device("meta")

# Whisper's decoder starts from <|startoftranscript|><|en|><|transcribe|><|notimestamps|>:
# the language and task the suite fixes (speech.whisper_setup) and no timestamps (the
# checkpoints' return_timestamps: false).
WHISPER_PROMPT_TOKENS = 4


@lru_cache(maxsize=8)
def meta_model(spec: TaskModelSpec, weights: str, dtype: str) -> torch.nn.Module:
    """The model built on meta in ``dtype``, cached: a prediction sweep builds it once."""
    model = build_task_model(spec, weights, META)
    torch_dtype = resolve_dtype(dtype)
    if torch_dtype is not None:
        torch.nn.Module.to(model, torch_dtype)
    return model


def _attribute(model: torch.nn.Module, path: str | None) -> torch.nn.Module:
    module = model
    for name in (path or "").split("."):
        if name:
            module = getattr(module, name)
    return module


def _ids(rows: int, length: int) -> torch.Tensor:
    return torch.zeros(rows, length, dtype=torch.long, device=META)


def _mask(rows: int, length: int) -> torch.Tensor:
    return torch.ones(rows, length, dtype=torch.long, device=META)


def _takes(module: torch.nn.Module, name: str) -> bool:
    import inspect

    return name in inspect.signature(module.forward).parameters


def _cache_tensors(cache: Any) -> list[torch.Tensor]:
    """Every key and value tensor a cache holds (self- and cross-attention alike)."""
    found: list[torch.Tensor] = []
    seen: set[int] = set()

    def visit(value: Any, depth: int) -> None:
        if depth > 4 or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, depth + 1)
        elif hasattr(value, "layers") or hasattr(value, "self_attention_cache"):
            for name in ("self_attention_cache", "cross_attention_cache", "layers"):
                visit(getattr(value, name, None), depth + 1)
        elif hasattr(value, "keys") and hasattr(value, "values") and not isinstance(value, dict):
            visit(getattr(value, "keys", None), depth + 1)
            visit(getattr(value, "values", None), depth + 1)

    visit(cache, 0)
    return found


def cache_bytes(cache: Any) -> tuple[float, int]:
    """(bytes, tensors) of the KV cache: what one decode step reads of it."""
    tensors = _cache_tensors(cache)
    return float(sum(t.numel() * t.element_size() for t in tensors)), len(tensors)


@dataclass
class _Counted:
    """One counted forward: its tallies by phase and the cache it leaves."""

    tallies: dict[str, Tally]
    output: Any

    @property
    def cache(self) -> Any:
        return getattr(self.output, "past_key_values", None)


class _Counter:
    """Counts forwards of one model and turns tallies into ``PassCompute``."""

    def __init__(self, model: torch.nn.Module, beams: int) -> None:
        self.bucketed = Bucketed(model)
        self.beams = beams
        self.notes: list[str] = []
        self.answered = 0

    def run(
        self,
        call: Callable[[], Any],
        phase: str,
        routes: dict[str, torch.nn.Module] | None = None,
    ) -> _Counted:
        output, tallies = self.bucketed.count(call, phase, routes)
        self.answered += sum(t.answered_items for t in tallies.values())
        return _Counted(tallies, output)

    def compute(self, tally: Tally, *, kv_bytes: float = 0.0) -> PassCompute:
        """One forward's ``PassCompute`` from its tally."""
        return PassCompute(
            flops=tally.flops,
            weight_bytes=tally.weight_bytes(self.bucketed.params),
            activation_bytes=tally.activation_bytes,
            kv_bytes=kv_bytes,
            kernels=tally.kernels,
            forwards=1,
        )

    def reorder(self, compute: PassCompute, cache: Any) -> PassCompute:
        """Beam search's cache reorder after a decoder forward: one gather per cached
        tensor, the whole cache written anew."""
        if self.beams <= 1 or cache is None:
            return compute
        written, tensors = cache_bytes(cache)
        return PassCompute(
            compute.flops,
            compute.weight_bytes,
            compute.activation_bytes + written,
            compute.kv_bytes,
            compute.kernels + tensors,
            compute.forwards,
        )


def _forward_inputs(spec: TaskModelSpec, shape: QueryShape, dtype: torch.dtype) -> dict[str, Any]:
    """The tensors one forward of a batch takes, as the pipeline's preprocess makes them."""
    rows = shape.batch * shape.rows
    if shape.tokens is not None:
        return {"input_ids": _ids(rows, shape.tokens), "attention_mask": _mask(rows, shape.tokens)}
    if shape.model_hw is not None:
        height, width = shape.model_hw
        inputs: dict[str, Any] = {
            "pixel_values": torch.zeros(rows, 3, height, width, dtype=dtype, device=META)
        }
        if spec.processor is not None and spec.processor.class_name == "DetrImageProcessor":
            inputs["pixel_mask"] = _mask(rows, height).unsqueeze(-1).expand(rows, height, width)
        return inputs
    if shape.mel_bins is not None and shape.frames is not None:
        return {
            "input_features": torch.zeros(
                rows, shape.mel_bins, shape.frames, dtype=dtype, device=META
            )
        }
    if shape.samples is not None:
        return {"input_values": torch.zeros(rows, shape.samples, dtype=dtype, device=META)}
    raise ConfigError(f"{spec.repo_id}: no input shape to count.")


def _single_forward(
    model: torch.nn.Module, spec: TaskModelSpec, shape: QueryShape, counter: _Counter
) -> dict[str, PassCompute]:
    inputs = _forward_inputs(spec, shape, model.dtype)
    counted = counter.run(lambda: model(**inputs), "forward")
    return {"forward": counter.compute(counted.tallies["forward"]).scaled(shape.calls)}


@dataclass
class _Decoder:
    """How to call a generating model's decoder: its first forward and one step."""

    first: Callable[[], Any]
    step: Callable[[Any, int, int], Any]  # (cache, new tokens, context after) -> output
    prompt: int  # tokens in the decoder's cache after the first forward
    routes: dict[str, torch.nn.Module] | None = None


def _step_kwargs(module: torch.nn.Module) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"use_cache": True}
    if _takes(module, "logits_to_keep"):
        kwargs["logits_to_keep"] = 1
    return kwargs


def _decoder_only(model: torch.nn.Module, shape: QueryShape) -> _Decoder:
    rows = shape.batch * shape.beams
    prompt = shape.tokens or 1
    extra = _step_kwargs(model)

    def first() -> Any:
        return model(input_ids=_ids(rows, prompt), attention_mask=_mask(rows, prompt), **extra)

    def step(cache: Any, tokens: int, context: int) -> Any:
        return model(
            input_ids=_ids(rows, tokens),
            attention_mask=_mask(rows, context),
            past_key_values=cache,
            **extra,
        )

    return _Decoder(first, step, prompt)


def _encoder_decoder(
    model: torch.nn.Module, spec: TaskModelSpec, shape: QueryShape, encoded: Any
) -> _Decoder:
    rows = shape.batch * shape.beams
    hidden = encoded[0].repeat_interleave(shape.beams, dim=0)
    start = WHISPER_PROMPT_TOKENS if spec.family == "whisper" else 1
    extra = _step_kwargs(model)
    encoder_mask: dict[str, Any] = {}
    if shape.tokens is not None:
        encoder_mask["attention_mask"] = _mask(rows, shape.tokens)

    def first() -> Any:
        return model(
            encoder_outputs=(hidden,), decoder_input_ids=_ids(rows, start), **encoder_mask, **extra
        )

    def step(cache: Any, tokens: int, context: int) -> Any:
        return model(
            encoder_outputs=(hidden,),
            decoder_input_ids=_ids(rows, tokens),
            past_key_values=cache,
            **encoder_mask,
            **extra,
        )

    return _Decoder(first, step, start)


def _blip(model: torch.nn.Module, shape: QueryShape, image: torch.Tensor) -> _Decoder:
    """BLIP: the text decoder from [DEC], cross-attending the image (modeling_blip's
    ``generate``: ``text_decoder.generate(input_ids=[bos], encoder_hidden_states=...)``)."""
    rows = shape.batch * shape.beams
    decoder = model.text_decoder
    image = image.repeat_interleave(shape.beams, dim=0)
    image_mask = _mask(rows, image.shape[1])
    extra = _step_kwargs(decoder)

    def call(ids: torch.Tensor, mask: torch.Tensor, cache: Any = None) -> Any:
        return decoder(
            input_ids=ids,
            attention_mask=mask,
            encoder_hidden_states=image,
            encoder_attention_mask=image_mask,
            past_key_values=cache,
            is_decoder=True,
            **extra,
        )

    return _Decoder(
        lambda: call(_ids(rows, 1), _mask(rows, 1)),
        lambda cache, tokens, context: call(_ids(rows, tokens), _mask(rows, context), cache),
        1,
    )


def _blip2(model: torch.nn.Module, shape: QueryShape, queries: torch.Tensor) -> _Decoder:
    """BLIP-2: the language model over the projected queries and its start token
    (modeling_blip_2's ``generate``: ``num_query_tokens`` image tokens, then bos)."""
    rows = shape.batch * shape.beams
    lm = model.language_model
    queries = queries.repeat_interleave(shape.beams, dim=0)
    prompt = queries.shape[1] + 1
    width = queries.shape[2]
    extra = _step_kwargs(lm)

    def first() -> Any:
        embeds = torch.zeros(rows, prompt, width, dtype=queries.dtype, device=META)
        return lm(inputs_embeds=embeds, attention_mask=_mask(rows, prompt), **extra)

    def step(cache: Any, tokens: int, context: int) -> Any:
        return lm(
            input_ids=_ids(rows, tokens),
            attention_mask=_mask(rows, context),
            past_key_values=cache,
            **extra,
        )

    return _Decoder(first, step, prompt)


def _git(model: torch.nn.Module, shape: QueryShape, pixels: torch.Tensor) -> _Decoder:
    """GIT: one forward over the image and [CLS] (the image encoder inside it is the
    encode phase), then text tokens against a cache that holds the image tokens."""
    rows = shape.batch * shape.beams
    extra = _step_kwargs(model)
    encoder = model.git.image_encoder
    image_tokens = model.git.encoder.layer[0].attention.self.image_patch_tokens

    def first() -> Any:
        return model(
            input_ids=_ids(rows, 1), attention_mask=_mask(rows, 1), pixel_values=pixels, **extra
        )

    def step(cache: Any, tokens: int, context: int) -> Any:
        text = context - image_tokens
        return model(
            input_ids=_ids(rows, tokens),
            attention_mask=_mask(rows, text),
            past_key_values=cache,
            **extra,
        )

    return _Decoder(first, step, 1 + image_tokens, routes={"encode": encoder})


def _generation(
    model: torch.nn.Module, spec: TaskModelSpec, shape: QueryShape, counter: _Counter
) -> dict[str, PassCompute]:
    """encode (if any), prefill and decode of one ``generate`` call."""
    phases: dict[str, PassCompute] = {}
    inputs = _forward_inputs(spec, shape, model.dtype)
    kind = spec.class_name
    if kind == "GitForCausalLM":
        decoder = _git(model, shape, inputs["pixel_values"])
    elif kind == "BlipForConditionalGeneration":
        counted = counter.run(lambda: model.vision_model(**inputs), "encode")
        phases["encode"] = counter.compute(counted.tallies["encode"])
        decoder = _blip(model, shape, counted.output[0])
    elif kind == "Blip2ForConditionalGeneration":
        counted = counter.run(lambda: _blip2_queries(model, inputs["pixel_values"]), "encode")
        phases["encode"] = counter.compute(counted.tallies["encode"])
        counter.notes.append(
            "encode holds BLIP-2's ViT-g, Q-Former and projection; the suite's encode window "
            "holds the ViT-g alone (the rest runs between it and the prefill)"
        )
        decoder = _blip2(model, shape, counted.output)
    elif spec.encoder is not None and getattr(model.config, "is_encoder_decoder", False):
        encoder = model.get_encoder()
        counted = counter.run(lambda: encoder(**inputs), "encode")
        phases["encode"] = counter.compute(counted.tallies["encode"])
        decoder = _encoder_decoder(model, spec, shape, counted.output)
    elif spec.encoder is None and spec.decoder == "":
        decoder = _decoder_only(model, shape)
    else:
        raise ConfigError(
            f"{spec.repo_id}: no call pattern for {spec.class_name} (encoder {spec.encoder!r}, "
            f"decoder {spec.decoder!r}); add one to genwatt.flops.task_drivers."
        )
    first = counter.run(decoder.first, "prefill", decoder.routes)
    for phase, tally in first.tallies.items():
        compute = counter.compute(tally)
        if phase == "prefill":
            compute = counter.reorder(compute, first.cache)
        phases[phase] = phases[phase] + compute if phase in phases else compute
    steps = (shape.new_tokens or 1) - 1
    if steps > 0:
        phases["decode"] = _decode(counter, decoder, first.cache, steps)
    if shape.beams > 1:
        counter.notes.append(
            f"beam search over {shape.beams} beams: the decoder runs on batch x {shape.beams} "
            "sequences and its cache is reordered after every forward"
        )
    order = [name for name in PHASES if name in phases]
    return {name: phases[name].scaled(shape.calls) for name in order}


def _decode(counter: _Counter, decoder: _Decoder, cache: Any, steps: int) -> PassCompute:
    """``steps`` decode forwards, the k-th against a context of ``prompt + k``. Every
    count is the same at each step but attention's and the cache's, which grow by one
    position a step, so the sum is ``steps`` times the step at the mean context
    ``prompt + (steps + 1) / 2``: one counted step when that is a whole position, the
    mean of the two around it otherwise."""
    low = decoder.prompt + (steps + 1) // 2
    _fill(decoder, cache, low - 1 - decoder.prompt)
    counted = [counter.run(lambda: decoder.step(cache, 1, low), "decode")]
    if steps % 2 == 0:
        counted.append(counter.run(lambda: decoder.step(cache, 1, low + 1), "decode"))
    passes = [_step_pass(counter, c) for c in counted]
    mean = steps / len(passes)
    return PassCompute(
        flops=mean * sum(p.flops for p in passes),
        weight_bytes=mean * sum(p.weight_bytes for p in passes),
        activation_bytes=mean * sum(p.activation_bytes for p in passes),
        kv_bytes=mean * sum(p.kv_bytes for p in passes),
        kernels=round(mean * sum(p.kernels for p in passes)),
        forwards=steps,
    )


def _fill(decoder: _Decoder, cache: Any, tokens: int) -> None:
    """Lengthen the self-attention cache by ``tokens`` positions, uncounted: appended
    through the cache's own ``update`` where it has the usual layout (no forward to
    run), else by one decoder forward over that many tokens."""
    if tokens <= 0:
        return
    target = getattr(cache, "self_attention_cache", cache)
    layers = getattr(target, "layers", None)
    before = target.get_seq_length() if hasattr(target, "get_seq_length") else None
    usable = bool(layers) and before is not None and hasattr(target, "update")
    if usable:
        usable = all(
            isinstance(getattr(layer, "keys", None), torch.Tensor)
            and isinstance(getattr(layer, "values", None), torch.Tensor)
            and layer.keys.dim() == 4
            and layer.keys.shape[-2] == before
            for layer in layers
        )
    if usable:
        for index, layer in enumerate(layers):
            keys, values = layer.keys, layer.values
            target.update(
                keys.new_zeros(*keys.shape[:-2], tokens, keys.shape[-1]),
                values.new_zeros(*values.shape[:-2], tokens, values.shape[-1]),
                index,
            )
        if target.get_seq_length() == before + tokens:
            return
        raise ConfigError("a KV cache did not grow as expected on meta; please report this")
    _uncounted(lambda: decoder.step(cache, tokens, decoder.prompt + tokens))


def _step_pass(counter: _Counter, counted: _Counted) -> PassCompute:
    kv, _ = cache_bytes(counted.cache)
    compute = counter.compute(counted.tallies["decode"], kv_bytes=kv)
    return counter.reorder(compute, counted.cache)


def _blip2_queries(model: torch.nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """BLIP-2's image side as its ``generate`` runs it: ViT-g, Q-Former, projection."""
    image = model.vision_model(pixels, return_dict=True).last_hidden_state
    image_mask = _mask(image.shape[0], image.shape[1])
    queries = model.query_tokens.expand(image.shape[0], -1, -1)
    out = model.qformer(
        query_embeds=queries,
        encoder_hidden_states=image,
        encoder_attention_mask=image_mask,
        return_dict=True,
    ).last_hidden_state
    return model.language_projection(out.to(image.dtype))


def _uncounted(call: Callable[[], Any]) -> Any:
    """Run ``call`` on meta without counting it (the mask check still answered)."""
    with OpCounter({}), torch.no_grad():
        return call()


def count_call(
    spec: TaskModelSpec, shape: QueryShape, weights: str, dtype: str
) -> tuple[dict[str, PassCompute], list[str], int]:
    """(phases, notes, parameters) of one call of ``spec`` on ``shape``; counted once
    per distinct shape (a prediction sweep asks for the same one many times)."""
    key = (
        shape.batch,
        shape.tokens,
        shape.rows,
        shape.calls,
        shape.model_hw,
        shape.samples,
        shape.mel_bins,
        shape.frames,
        shape.new_tokens,
        shape.beams,
    )
    phases, notes, params = _count_call(spec, key, weights, dtype)
    return dict(phases), list(notes), params


@lru_cache(maxsize=256)
def _count_call(
    spec: TaskModelSpec, key: tuple[Any, ...], weights: str, dtype: str
) -> tuple[tuple[tuple[str, PassCompute], ...], tuple[str, ...], int]:
    (batch, tokens, rows, calls, model_hw, samples, mel_bins, frames, new_tokens, beams) = key
    shape = QueryShape(
        batch=batch,
        inputs={},
        tokens=tokens,
        rows=rows,
        calls=calls,
        model_hw=model_hw,
        samples=samples,
        mel_bins=mel_bins,
        frames=frames,
        new_tokens=new_tokens,
        beams=beams,
    )
    model = meta_model(spec, weights, dtype)
    counter = _Counter(model, shape.beams)
    if spec.decoder is None:
        phases = _single_forward(model, spec, shape, counter)
    else:
        phases = _generation(model, spec, shape, counter)
    notes = list(counter.notes)
    if counter.answered:
        notes.append(
            "meta tensors hold no data: transformers' check that the attention mask is all "
            "ones (so that SDPA may drop it) was answered yes, as for unpadded queries"
        )
    params = sum(p.numel() for p in model.parameters())
    return tuple(phases.items()), tuple(notes), params
