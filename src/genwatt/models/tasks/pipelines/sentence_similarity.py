"""Sentence similarity as a transformers ``Pipeline``: the cosine of two sentences'
embeddings.

transformers has no pipeline for the task; sentence-transformers, which BGE and E5 are
published for, runs the encoder, pools its token vectors and L2-normalises them. This
pipeline does the same in transformers' three stages, so that the suite measures it as
it measures any other pipeline:

- ``preprocess`` tokenises the two sentences of a query as one batch of two;
- ``_forward`` runs the encoder once on every sentence of the batch (a batch of B
  queries is one forward over 2B sentences);
- ``postprocess`` pools each sentence (its ``[CLS]`` vector for BGE, the mean of its
  token vectors under the attention mask for E5), L2-normalises, and returns
  ``{"similarity": cosine}``.

A query is ``{"text": a, "text_pair": b}``; a list of them is a batch. ``pooling`` and
``prefix`` (E5's ``"query: "``) come from the checkpoint's spec
(``TaskModelSpec.pipeline_kwargs``) and may be given per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from transformers import Pipeline

from genwatt.errors import ConfigError

if TYPE_CHECKING:
    import torch

Pooling = Literal["cls", "mean"]
POOLINGS: tuple[Pooling, ...] = ("cls", "mean")

# The second sentence's tensors travel beside the first's under these suffixed names:
# the base class pads each key of a batch separately, one row per query, so a query
# cannot carry a two-row tensor through batching.
_PAIR = "_pair"


def _sentences(inputs: Any) -> tuple[str, str]:
    """The two sentences of one query, or a ConfigError saying what a query is."""
    if isinstance(inputs, Mapping):
        text, pair = inputs.get("text"), inputs.get("text_pair")
        if isinstance(text, str) and isinstance(pair, str):
            return text, pair
    raise ConfigError(
        "A sentence-similarity query is a dict {'text': str, 'text_pair': str} (a list of "
        f"them for a batch); got {type(inputs).__name__}: {str(inputs)[:80]!r}."
    )


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """One vector per sentence from its token vectors ``[n, length, width]``: the first
    (``[CLS]``) one, or their mean over the tokens ``mask`` keeps."""
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class SentenceSimilarityPipeline(Pipeline):
    """Cosine similarity of two sentences under a text encoder (``BertModel`` and kin)."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def _sanitize_parameters(
        self,
        pooling: str | None = None,
        prefix: str | None = None,
        truncation: bool | None = None,
        **kwargs: Any,
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        if kwargs:
            raise ConfigError(
                f"sentence-similarity takes pooling, prefix and truncation; got {sorted(kwargs)}."
            )
        preprocess: dict[str, Any] = {}
        if prefix is not None:
            preprocess["prefix"] = prefix
        if truncation is not None:
            preprocess["truncation"] = truncation
        postprocess: dict[str, Any] = {}
        if pooling is not None:
            if pooling not in POOLINGS:
                raise ConfigError(
                    f"Unknown pooling {pooling!r}; use one of: {', '.join(POOLINGS)}."
                )
            postprocess["pooling"] = pooling
        return preprocess, {}, postprocess

    def preprocess(
        self, inputs: Any, prefix: str = "", truncation: bool = True
    ) -> dict[str, torch.Tensor]:
        text, pair = _sentences(inputs)
        assert self.tokenizer is not None
        encoded = self.tokenizer(
            [prefix + text, prefix + pair],
            padding=True,
            truncation=truncation,
            return_tensors="pt",
        )
        first = {key: value[:1] for key, value in encoded.items()}
        second = {key + _PAIR: value[1:] for key, value in encoded.items()}
        return {**first, **second}

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        import torch

        names = [key for key in model_inputs if not key.endswith(_PAIR)]
        queries = model_inputs["input_ids"].shape[0]
        both = {key: torch.cat([model_inputs[key], model_inputs[key + _PAIR]]) for key in names}
        mask = both["attention_mask"]
        pad_id = getattr(self.tokenizer, "pad_token_id", None)
        if pad_id is not None:
            # The base class pads keys other than input_ids with 0, whatever the pad id.
            both["input_ids"] = both["input_ids"].masked_fill(mask == 0, pad_id)
        output = self.model(**both)
        hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
        return {
            "hidden": hidden[:queries],
            "hidden" + _PAIR: hidden[queries:],
            "mask": mask[:queries],
            "mask" + _PAIR: mask[queries:],
        }

    def postprocess(
        self, model_outputs: dict[str, torch.Tensor], pooling: Pooling = "cls"
    ) -> dict[str, float]:
        import torch

        vectors = [
            pool(model_outputs["hidden" + s].float(), model_outputs["mask" + s], pooling)
            for s in ("", _PAIR)
        ]
        first, second = (torch.nn.functional.normalize(v, dim=-1) for v in vectors)
        return {"similarity": float((first * second).sum())}


__all__ = ["POOLINGS", "SentenceSimilarityPipeline", "pool"]
