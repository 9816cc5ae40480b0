"""genwatt's own transformers pipelines, for the suite's tasks that transformers has
none for: sentence similarity never had one; extractive question answering,
summarization, text-to-text generation and image captioning left it in v5.

Each keeps the ``Pipeline`` structure (``preprocess`` -> ``_forward`` ->
``postprocess``, batching through the base class), so the suite's instrumentation
measures them as it measures transformers' own. Specs name them as
``"genwatt.models.tasks.pipelines.<module>:<Class>"``; nothing is imported here, so
reading the registry stays free of torch.
"""
