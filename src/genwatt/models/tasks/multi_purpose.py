"""Multi-purpose models run zero-shot on the task-specific models' jobs: T5, Flan-T5 and
BLOOMZ on text classification, extractive question answering and summarization.

"Power Hungry Processing" (Luccioni, Jernite and Strubell, FAccT 2024) measured these
families beside the task-specific models on the same queries and found them 3x to 11x
dearer per query. Each query is written into the model's prompt for the task and the
model generates its answer (exactly ``new_tokens`` of it: the suite fixes the length,
since random weights rarely stop on their own).

Prompts: T5 was trained with task prefixes (Raffel et al. 2020, appendix D: "sst2
sentence:", "question: ... context: ...", "summarize:"), and AI Energy Score runs T5 as a
multi-purpose model with exactly these; Flan-T5 is given the same, as the anchors do.
BLOOMZ was fine-tuned on xP3, natural-language instructions rather than prefixes, so it
gets a plain instruction that ends with the question or an "Answer:" cue, which is how
its model card advises prompting it (make clear where the input ends, or it goes on
writing it). The wording of the BLOOMZ prompts is genwatt's.

T5 and Flan-T5 run through genwatt's ``Text2TextGenerationPipeline`` (transformers v5
has no text-to-text pipeline); the encoder runs once per query and the whole model once
per generated token. BLOOMZ is decoder-only and runs every task through transformers'
``text-generation`` pipeline (``pipeline_task``), which takes its generation settings as
plain keywords (``calls.model_generation_kwargs``).

Each entry is the checkpoint's real config.json (cited by repo), its exact parameter
count (rebuilt on the meta device by a test) and a tiny form: 2 layers of 64 wide, 4
heads, the built-in vocabulary.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.tasks.spec import TaskModelSpec, TokenizerScheme
from genwatt.models.tasks.text_generators import (
    TEXT2TEXT_PIPELINE,
    TINY_VOCAB,
    TINY_WIDTH,
    tiny_token_ids,
)

MULTI_PURPOSE_TASKS = ("text-classification", "question-answering", "summarization")

# What a zero-shot classifier answers: the words T5 emits for SST-2 (its training
# targets), which the quality score maps back to the two classes.
SST2_WORDS = ("negative", "positive")

# --- Tokenizer schemes -----------------------------------------------------------------

# spiece.model / tokenizer.json of google-t5/t5-small (the same 32,000-piece vocabulary
# and 100 sentinels for every T5 and Flan-T5 size; the models' embeddings hold 32,128):
# <pad>=0 </s>=1 <unk>=2, "</s>" appended to every text, model_max_length 512.
T5 = TokenizerScheme(
    "t5",
    {"pad": ("<pad>", 0), "eos": ("</s>", 1), "unk": ("<unk>", 2)},
    single="$A {eos}",
    pair="$A {eos} $B {eos}",
    model_max_length=512,
)

# tokenizer_config.json of bigscience/bloomz-560m (BloomTokenizerFast, the same for every
# BLOOM and BLOOMZ size, 250,680 tokens in a 250,880 embedding): <unk>=0 <s>=1 </s>=2
# <pad>=3, nothing added to a text, left padding. No model_max_length is set; BLOOM was
# trained on 2,048-token sequences.
BLOOM = TokenizerScheme(
    "bloom",
    {"unk": ("<unk>", 0), "bos": ("<s>", 1), "eos": ("</s>", 2), "pad": ("<pad>", 3)},
    model_max_length=2048,
    padding_side="left",
)

# --- Prompts ---------------------------------------------------------------------------

T5_PROMPTS = {
    "text-classification": "sst2 sentence: {text}",
    "question-answering": "question: {question} context: {context}",
    "summarization": "summarize: {text}",
}

BLOOMZ_PROMPTS = {
    "text-classification": "Review: {text}\nIs this review positive or negative?",
    "question-answering": "Context: {context}\nQuestion: {question}\nAnswer:",
    "summarization": "Article: {text}\nSummarize the article above in a few sentences.",
}

# --- T5 and Flan-T5 ----------------------------------------------------------------------


def _t5_config(
    width: int, ffn: int, head_dim: int, heads: int, layers: int, gated: bool
) -> dict[str, Any]:
    """config.json of a T5 checkpoint: relative position buckets (32, up to distance 128),
    RMS-style layer norm, the same number of encoder and decoder layers. T5 v1.0 (t5-*)
    has a ReLU FFN and ties its output layer to the embeddings; T5 v1.1, which Flan-T5
    is fine-tuned from, has a gated-GELU FFN and an untied output layer."""
    return {
        "vocab_size": 32128,
        "d_model": width,
        "d_ff": ffn,
        "d_kv": head_dim,
        "num_heads": heads,
        "num_layers": layers,
        "num_decoder_layers": layers,
        "relative_attention_num_buckets": 32,
        "relative_attention_max_distance": 128,
        "feed_forward_proj": "gated-gelu" if gated else "relu",
        "tie_word_embeddings": not gated,
        "layer_norm_epsilon": 1e-6,
        "n_positions": 512,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
        "is_encoder_decoder": True,
    }


def _tiny_t5(gated: bool) -> dict[str, Any]:
    return {
        "vocab_size": TINY_VOCAB,
        "d_model": TINY_WIDTH,
        "d_ff": 2 * TINY_WIDTH,
        "d_kv": TINY_WIDTH // 4,
        "num_heads": 4,
        "num_layers": 2,
        "num_decoder_layers": 2,
        "feed_forward_proj": "gated-gelu" if gated else "relu",
        **tiny_token_ids(T5, pad_token_id="pad", eos_token_id="eos", decoder_start_token_id="pad"),
    }


TINY_T5_PARAMS = 197_632
TINY_FLAN_T5_PARAMS = 263_168

_T5_PAPER = (
    "Raffel et al. 2020, 'Exploring the Limits of Transfer Learning with a Unified "
    "Text-to-Text Transformer'"
)
_FLAN_PAPER = "Chung et al. 2022, 'Scaling Instruction-Finetuned Language Models'"


UNTIE_OUTPUT_LAYER = "genwatt.models.tasks.multi_purpose:untie_output_layer"


def untie_output_layer(model: Any, spec: TaskModelSpec, weights: str) -> None:
    """Give T5 v1.1 (Flan-T5) its own output layer, as its checkpoint has one.

    transformers 5's T5Config forces ``tie_word_embeddings=True`` (it keeps the flag
    only to decide whether to rescale the decoder's output), so a model built from the
    config shares the input embeddings, while ``from_pretrained`` keeps the checkpoint's
    separate ``lm_head``. Untying makes the random and tiny forms hold what the
    checkpoint holds (vocabulary x width more parameters; the same compute per token).
    A model that is already untied (pretrained) is left as it is.
    """
    import torch

    head = model.get_output_embeddings()
    if head is None or head.weight is not model.get_input_embeddings().weight:
        return
    head.weight = torch.nn.Parameter(head.weight.detach().clone(), requires_grad=False)


def _t5(
    repo_id: str,
    config: dict[str, Any],
    params: int,
    published: float,
    published_source: str,
    alias: str,
) -> TaskModelSpec:
    gated = config["feed_forward_proj"] == "gated-gelu"
    untied = not config["tie_word_embeddings"]
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=MULTI_PURPOSE_TASKS,
        family="t5",
        kind="multi-purpose",
        class_name="T5ForConditionalGeneration",
        config_class="T5Config",
        config=config,
        source=f"config.json of {repo_id}",
        params=params,
        published_params=published,
        published_source=published_source,
        tokenizer=T5,
        tiny_config=_tiny_t5(gated),
        tiny_params=TINY_FLAN_T5_PARAMS if gated else TINY_T5_PARAMS,
        prompts=T5_PROMPTS,
        encoder="encoder",
        decoder="",
        pipeline=TEXT2TEXT_PIPELINE,
        labels=SST2_WORDS,
        aliases=(alias,),
        model_setup=UNTIE_OUTPUT_LAYER if untied else None,
        notes="Own output layer, untied after building (untie_output_layer)." if untied else "",
    )


T5_SMALL = _t5(
    "google-t5/t5-small",
    _t5_config(512, 2048, 64, 8, 6, gated=False),
    60_506_624,
    60e6,
    f"{_T5_PAPER}, section 3.7 (Small: about 60 million parameters)",
    "t5-small",
)
T5_BASE = _t5(
    "google-t5/t5-base",
    _t5_config(768, 3072, 64, 12, 12, gated=False),
    222_903_552,
    220e6,
    f"{_T5_PAPER}, section 3.1.2 (Base: about 220 million parameters)",
    "t5-base",
)
T5_LARGE = _t5(
    "google-t5/t5-large",
    _t5_config(1024, 4096, 64, 16, 24, gated=False),
    737_668_096,
    770e6,
    f"{_T5_PAPER}, section 3.7 (Large: about 770 million parameters)",
    "t5-large",
)
T5_3B = _t5(
    "google-t5/t5-3b",
    _t5_config(1024, 16384, 128, 32, 24, gated=False),
    2_851_598_336,
    2.8e9,
    f"{_T5_PAPER}, section 3.7 (3B: about 2.8 billion parameters)",
    "t5-3b",
)
T5_11B = _t5(
    "google-t5/t5-11b",
    _t5_config(1024, 65536, 128, 128, 24, gated=False),
    11_307_321_344,
    11e9,
    f"{_T5_PAPER}, section 3.7 (11B: about 11 billion parameters)",
    "t5-11b",
)

FLAN_T5_BASE = _t5(
    "google/flan-t5-base",
    _t5_config(768, 2048, 64, 12, 12, gated=True),
    247_577_856,
    250e6,
    f"{_FLAN_PAPER}, model sizes (Flan-T5-Base 250M)",
    "flan-t5-base",
)
FLAN_T5_LARGE = _t5(
    "google/flan-t5-large",
    _t5_config(1024, 2816, 64, 16, 24, gated=True),
    783_150_080,
    780e6,
    f"{_FLAN_PAPER}, model sizes (Flan-T5-Large 780M)",
    "flan-t5-large",
)
FLAN_T5_XL = _t5(
    "google/flan-t5-xl",
    _t5_config(2048, 5120, 64, 32, 24, gated=True),
    2_849_757_184,
    3e9,
    f"{_FLAN_PAPER}, model sizes (Flan-T5-XL 3B, 2.85B rounded)",
    "flan-t5-xl",
)
FLAN_T5_XXL = _t5(
    "google/flan-t5-xxl",
    _t5_config(4096, 10240, 64, 64, 24, gated=True),
    11_135_332_352,
    11e9,
    f"{_FLAN_PAPER}, model sizes (Flan-T5-XXL 11B)",
    "flan-t5-xxl",
)

# --- BLOOMZ ------------------------------------------------------------------------------


def _bloom_config(width: int, layers: int, heads: int) -> dict[str, Any]:
    """config.json of a bigscience/bloomz-* checkpoint: ALiBi positions (no position
    table), an embedding layer norm, FFN of 4x width, tied embeddings."""
    return {
        "vocab_size": 250880,
        "hidden_size": width,
        "n_layer": layers,
        "n_head": heads,
        "layer_norm_epsilon": 1e-5,
        "apply_residual_connection_post_layernorm": False,
        "pretraining_tp": 1,
        "slow_but_exact": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 3,
    }


TINY_BLOOM = {
    "vocab_size": TINY_VOCAB,
    "hidden_size": TINY_WIDTH,
    "n_layer": 2,
    "n_head": 4,
    **tiny_token_ids(BLOOM, bos_token_id="bos", eos_token_id="eos", pad_token_id="pad"),
}
TINY_BLOOM_PARAMS = 132_992

_BLOOM_PAPER = (
    "BigScience Workshop 2022, 'BLOOM: A 176B-Parameter Open-Access Multilingual "
    "Language Model', table of model sizes; BLOOMZ (Muennighoff et al. 2023, "
    "'Crosslingual Generalization through Multitask Finetuning') fine-tunes them unchanged"
)


def _bloomz(size: str, config: dict[str, Any], params: int, published: float) -> TaskModelSpec:
    return TaskModelSpec(
        repo_id=f"bigscience/bloomz-{size}",
        tasks=MULTI_PURPOSE_TASKS,
        family="bloom",
        kind="multi-purpose",
        class_name="BloomForCausalLM",
        config_class="BloomConfig",
        config=config,
        source=f"config.json of bigscience/bloomz-{size}",
        params=params,
        published_params=published,
        published_source=f"{_BLOOM_PAPER} ({size.upper()})",
        tokenizer=BLOOM,
        tiny_config=TINY_BLOOM,
        tiny_params=TINY_BLOOM_PARAMS,
        torch_dtype="float16",
        prompts=BLOOMZ_PROMPTS,
        decoder="",
        pipeline_task="text-generation",
        labels=SST2_WORDS,
        aliases=(f"bloomz-{size}",),
    )


BLOOMZ_560M = _bloomz("560m", _bloom_config(1024, 24, 16), 559_214_592, 560e6)
BLOOMZ_1B7 = _bloomz("1b7", _bloom_config(2048, 24, 16), 1_722_408_960, 1.7e9)
BLOOMZ_3B = _bloomz("3b", _bloom_config(2560, 30, 32), 3_002_557_440, 3e9)
BLOOMZ_7B1 = _bloomz("7b1", _bloom_config(4096, 30, 32), 7_069_016_064, 7.1e9)

SPECS: tuple[TaskModelSpec, ...] = (
    T5_SMALL,
    T5_BASE,
    T5_LARGE,
    T5_3B,
    T5_11B,
    FLAN_T5_BASE,
    FLAN_T5_LARGE,
    FLAN_T5_XL,
    FLAN_T5_XXL,
    BLOOMZ_560M,
    BLOOMZ_1B7,
    BLOOMZ_3B,
    BLOOMZ_7B1,
)
