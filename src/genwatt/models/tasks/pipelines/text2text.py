"""Text-to-text generation for encoder-decoder models (T5, Flan-T5, BART).

transformers v5 removed its ``summarization`` and ``text2text-generation`` pipelines
(its pipeline factory now points users to chat models), yet summarization with BART and
zero-shot T5 are two of the suite's anchors. This pipeline keeps transformers'
structure, so the suite instruments it as it does any other: ``preprocess`` tokenises
one text (truncated to what the model reads), ``_forward`` calls ``model.generate`` once
per batch, ``postprocess`` decodes each answer to ``{"generated_text": ...}``.

Generation settings come as ``generate_kwargs={...}`` (as transformers' speech and
image-text pipelines take them, and as ``genwatt.models.tasks.calls`` passes them) or as
plain keywords (as the removed pipelines took them). Whatever the call does not set
comes from the model's generation config: BART-CNN keeps its four beams and n-gram
blocking while the suite fixes the length.
"""

from __future__ import annotations

from typing import Any

from transformers import Pipeline
from transformers.utils import ModelOutput

from genwatt.models.tasks.pipelines.generate_options import merged_generate_kwargs

# Above this, a tokenizer's ``model_max_length`` is transformers' "no limit" sentinel.
_NO_LIMIT = 10**9


class Text2TextGenerationPipeline(Pipeline):
    """Generate a text from a text with an encoder-decoder model.

    Called with one string it returns ``[{"generated_text": ...}]`` (one dict per
    returned sequence); with a list of strings, one such dict per input when each input
    returns one sequence, as the pipeline transformers v4 had did. ``batch_size > 1``
    pads the inputs with the tokenizer's pad token on its padding side.
    """

    _pipeline_calls_generate = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not getattr(self.model.config, "is_encoder_decoder", False):
            raise ValueError(
                f"{type(self).__name__} runs encoder-decoder models; "
                f"{type(self.model).__name__} is decoder-only: use the text-generation pipeline"
            )
        if self.tokenizer is None:
            raise ValueError(f"{type(self).__name__} needs a tokenizer")

    def _sanitize_parameters(
        self,
        truncation: bool | None = None,
        return_tensors: bool | None = None,
        clean_up_tokenization_spaces: bool | None = None,
        generate_kwargs: dict[str, Any] | None = None,
        **plain_generate_kwargs: Any,
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        preprocess_params: dict[str, Any] = {}
        if truncation is not None:
            preprocess_params["truncation"] = truncation
        forward_params = merged_generate_kwargs(generate_kwargs, plain_generate_kwargs)
        postprocess_params: dict[str, Any] = {}
        if return_tensors is not None:
            postprocess_params["return_tensors"] = return_tensors
        if clean_up_tokenization_spaces is not None:
            postprocess_params["clean_up_tokenization_spaces"] = clean_up_tokenization_spaces
        return preprocess_params, forward_params, postprocess_params

    def __call__(self, inputs: str | list[str], **kwargs: Any) -> Any:  # type: ignore[override]
        """Generate for one text or a list of texts (``batch_size=``, ``generate_kwargs=``)."""
        result = super().__call__(inputs, **kwargs)
        if (
            isinstance(inputs, list)
            and all(isinstance(text, str) for text in inputs)
            and all(len(answers) == 1 for answers in result)
        ):
            return [answers[0] for answers in result]
        return result

    def max_input_tokens(self) -> int | None:
        """How many tokens the model reads: the tokenizer's limit, capped by the
        model's learned positions where it has them (BART's 1,024); None if unlimited."""
        limits = [self.tokenizer.model_max_length]
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if isinstance(positions, int):
            limits.append(positions)
        limit = min(limits)
        return None if limit >= _NO_LIMIT else limit

    def preprocess(self, inputs: str, truncation: bool = True) -> dict[str, Any]:
        if not isinstance(inputs, str):
            raise TypeError(f"{type(self).__name__} takes texts, got {type(inputs).__name__}")
        # A checkpoint's ``prefix`` (config.json), put before every input as v4 did.
        prefix = getattr(self, "prefix", None) or ""
        max_length = self.max_input_tokens() if truncation else None
        encoded = self.tokenizer(
            prefix + inputs,
            truncation=truncation and max_length is not None,
            max_length=max_length,
            return_tensors="pt",
            return_token_type_ids=False,
        )
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any) -> dict[str, Any]:
        batch = model_inputs["input_ids"].shape[0]
        generate_kwargs = self._prepare_generate_kwargs(
            generate_kwargs, return_dict_in_generate=False
        )
        output = self.model.generate(**model_inputs, **generate_kwargs)
        if isinstance(output, ModelOutput):
            output = output.sequences
        per_input = output.shape[0] // batch  # num_return_sequences
        return {"output_ids": output.reshape(batch, per_input, *output.shape[1:])}

    def postprocess(
        self,
        model_outputs: dict[str, Any],
        return_tensors: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for ids in model_outputs["output_ids"][0]:
            if return_tensors:
                records.append({"generated_token_ids": ids.tolist()})
                continue
            text = self.tokenizer.decode(
                ids,
                skip_special_tokens=True,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            )
            records.append({"generated_text": text})
        return records


__all__ = ["Text2TextGenerationPipeline"]
