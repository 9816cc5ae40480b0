"""Image captioning (image-to-text) with BLIP, GIT and BLIP-2.

transformers v5 removed its ``image-to-text`` pipeline. Its ``image-text-to-text``
pipeline, which the removal points to, refuses an image without a text prompt ("You
must provide text for this pipeline"), and captioning the way the anchors ran it is
exactly that: an image in, a caption out. This pipeline keeps transformers' structure,
so the suite instruments it as any other: ``preprocess`` runs the image processor on
one image, ``_forward`` calls ``model.generate(pixel_values=...)`` once per batch (each
model's own ``generate`` encodes the image once and starts from its own prompt: BLIP's
``[DEC]``, GIT's ``[CLS]``, BLIP-2's query placeholders and ``</s>``), and
``postprocess`` decodes each caption to ``{"generated_text": ...}``, dropping those
special tokens.

Generation settings come as ``generate_kwargs={...}`` (as ``genwatt.models.tasks.calls``
passes them for this task) or as plain keywords; whatever the call does not set comes
from the model's generation config.
"""

from __future__ import annotations

from typing import Any

from transformers import GenerationConfig, Pipeline
from transformers.image_utils import load_image
from transformers.utils import ModelOutput

from genwatt.models.tasks.pipelines.generate_options import merged_generate_kwargs


class ImageCaptioningPipeline(Pipeline):
    """Caption an image with a vision-language model that generates from pixels alone.

    Called with one image (a ``PIL.Image``, a path or a URL) it returns
    ``[{"generated_text": ...}]``; with a list of images, one such dict per image (or a
    list of them per image when ``num_return_sequences > 1``). ``batch_size > 1``
    stacks the images, which the processor has brought to one size.
    """

    _pipeline_calls_generate = True
    _load_processor = False
    _load_image_processor = True
    _load_feature_extractor = False
    _load_tokenizer = True
    # transformers' image-text pipelines generate at most 256 new tokens by default.
    _default_generation_config = GenerationConfig(max_new_tokens=256)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.image_processor is None:
            raise ValueError(f"{type(self).__name__} needs an image processor")
        if self.tokenizer is None:
            raise ValueError(f"{type(self).__name__} needs a tokenizer to decode the captions")
        if not self.model.can_generate():
            raise ValueError(f"{type(self.model).__name__} cannot generate a caption")

    def _sanitize_parameters(
        self,
        timeout: float | None = None,
        return_tensors: bool | None = None,
        generate_kwargs: dict[str, Any] | None = None,
        **plain_generate_kwargs: Any,
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        preprocess_params: dict[str, Any] = {}
        if timeout is not None:
            preprocess_params["timeout"] = timeout
        forward_params = merged_generate_kwargs(generate_kwargs, plain_generate_kwargs)
        postprocess_params: dict[str, Any] = {}
        if return_tensors is not None:
            postprocess_params["return_tensors"] = return_tensors
        return preprocess_params, forward_params, postprocess_params

    def __call__(self, images: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Caption one image or a list of images (``batch_size=``, ``generate_kwargs=``)."""
        result = super().__call__(images, **kwargs)
        if isinstance(images, list) and all(len(answers) == 1 for answers in result):
            return [answers[0] for answers in result]
        return result

    def preprocess(self, image: Any, timeout: float | None = None) -> dict[str, Any]:
        pixels = self.image_processor(
            images=load_image(image, timeout=timeout), return_tensors="pt"
        )
        return {"pixel_values": pixels["pixel_values"].to(self.dtype)}

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any) -> dict[str, Any]:
        batch = model_inputs["pixel_values"].shape[0]
        generate_kwargs = self._prepare_generate_kwargs(
            generate_kwargs, return_dict_in_generate=False
        )
        output = self.model.generate(pixel_values=model_inputs["pixel_values"], **generate_kwargs)
        if isinstance(output, ModelOutput):
            output = output.sequences
        per_image = output.shape[0] // batch  # num_return_sequences
        return {"output_ids": output.reshape(batch, per_image, *output.shape[1:])}

    def postprocess(
        self, model_outputs: dict[str, Any], return_tensors: bool = False
    ) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for ids in model_outputs["output_ids"][0]:
            if return_tensors:
                records.append({"generated_token_ids": ids.tolist()})
            else:
                records.append(
                    {"generated_text": self.tokenizer.decode(ids, skip_special_tokens=True)}
                )
        return records


__all__ = ["ImageCaptioningPipeline"]
