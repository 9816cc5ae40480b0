"""The thirteen tasks of the suite, as transformers and diffusers name them.

Generation lengths are fixed (min = max new tokens) so that random weights, which
rarely emit an end token, cost what trained weights do. Text generation, summarization
and the multi-purpose models' tasks take AI Energy Score's 10 new tokens and image
generation its 30 steps (shared/reference/ai_energy_score_protocol.md). The anchors fix
no length for captioning and speech recognition, so genwatt takes the mean answer
length of the reference data: COCO captions average 10.5 words (Chen et al. 2015,
"Microsoft COCO Captions", arXiv 1504.00325), about 12 tokens; LibriSpeech test-clean
holds 52,576 words in 2,620 utterances (Panayotov et al. 2015), 20 words each, about 26
Whisper tokens at 1.3 tokens a word (AI Energy Score's own benchmark generates 100 for
both: ``protocols.Protocol.generation_lengths``). Text-to-video runs the model's own
default steps.
"""

from __future__ import annotations

from genwatt.errors import ConfigError
from genwatt.models.tasks.spec import TaskName, TaskSpec
from genwatt.suggest import close_names

TASKS: dict[str, TaskSpec] = {
    t.name: t
    for t in (
        TaskSpec(
            "text-classification",
            "text",
            "accuracy",
            generates=False,
            description="sentiment of a review or a sentence (binary)",
            anchor_datasets=("IMDB", "SST-2", "Rotten Tomatoes"),
        ),
        TaskSpec(
            "token-classification",
            "text",
            "entity-f1",
            generates=False,
            description="named entities in a sentence",
            anchor_datasets=("CoNLL-2003", "WikiANN", "ReCoRD"),
        ),
        TaskSpec(
            "question-answering",
            "question-context",
            "squad-f1",
            generates=False,
            description="extractive: the answer span of a question in a context",
            anchor_datasets=("SQuAD", "SQuAD v2", "SciQ"),
        ),
        TaskSpec(
            "fill-mask",
            "masked-text",
            "top1",
            generates=False,
            description="the masked word of a sentence",
            anchor_datasets=("BookCorpus", "C4", "OSCAR"),
        ),
        TaskSpec(
            "sentence-similarity",
            "sentence-pair",
            "none",
            generates=False,
            description="cosine similarity of two sentences' embeddings",
            anchor_datasets=("STS-B", "Sentence Compression", "Phrase Similarity"),
        ),
        TaskSpec(
            "summarization",
            "text",
            "rouge-l",
            generates=True,
            new_tokens=10,
            description="a summary of a news article",
            anchor_datasets=("CNN/DailyMail", "SAMSum", "XSum"),
        ),
        TaskSpec(
            "text-generation",
            "text",
            "none",
            generates=True,
            new_tokens=10,
            description="continue a text",
            anchor_datasets=("WikiText", "BookCorpus", "OSCAR"),
        ),
        TaskSpec(
            "image-classification",
            "image",
            "accuracy",
            generates=False,
            description="the ImageNet class of an image",
            anchor_datasets=("ImageNet", "CIFAR-10", "CIFAR-100"),
        ),
        TaskSpec(
            "object-detection",
            "image",
            "none",
            generates=False,
            description="boxes and classes of the objects in an image",
            anchor_datasets=("COCO 2017", "Visual Genome", "CPPE-5"),
        ),
        TaskSpec(
            "image-to-text",
            "image",
            "none",
            generates=True,
            new_tokens=12,
            description="a caption for an image",
            anchor_datasets=("COCO 2014", "RedCaps", "Visual Genome"),
        ),
        TaskSpec(
            "automatic-speech-recognition",
            "audio",
            "wer",
            generates=True,
            new_tokens=26,
            description="the transcript of a spoken utterance",
            anchor_datasets=("LibriSpeech", "Common Voice", "People's Speech"),
        ),
        TaskSpec(
            "text-to-image",
            "prompt",
            "none",
            generates=True,
            steps=30,
            description="an image from a prompt",
            anchor_datasets=("COCO 2014 captions", "DiffusionDB", "Nouns"),
        ),
        TaskSpec(
            "text-to-video",
            "prompt",
            "none",
            generates=True,
            description="a clip from a prompt",
            anchor_datasets=("the Video Killed the Energy Budget prompts",),
        ),
    )
}

TASK_NAMES: tuple[TaskName, ...] = tuple(TASKS)  # type: ignore[assignment]


def get_task(name: str) -> TaskSpec:
    """The task called ``name``; a ConfigError suggests the closest names."""
    key = name.strip().lower()
    if key in TASKS:
        return TASKS[key]
    close = close_names(key, {k: k for k in TASKS})
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"Unknown task {name!r}.{hint} Run `genwatt tasks` to list the {len(TASKS)} tasks."
    )


# Multi-purpose models answer every task by generating text: AI Energy Score fixes 10 new
# tokens for them on classification, question answering and summarization alike.
MULTI_PURPOSE_NEW_TOKENS = 10
