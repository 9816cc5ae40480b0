"""Text generation (decoder-only language models) and summarization (BART).

Each entry is the checkpoint's real ``config.json`` (cited by repo), its exact parameter
count (rebuilt on the meta device by a test), the published size it is checked
against, and a tiny form of the same classes: 2 layers of 64 wide, 4 heads (grouped
key-value heads kept where the real model groups them), and the built-in vocabulary.
Values of a config that only training reads (dropout, initialiser range) are left at the
transformers defaults.

Every generator runs through transformers' ``text-generation`` pipeline with left
padding (a batch's prompts end where generation starts). Summarization runs through
genwatt's ``Text2TextGenerationPipeline``: transformers v5 removed its own.
``torch_dtype`` is what each config.json says (GPT-2's checkpoints carry no dtype and
are stored in float32); the suite's protocols override it (AI Energy Score runs text
generation in 16 bits).

Generation defaults: the BART-CNN checkpoints summarise with 4 beams, length penalty
2.0 and trigram blocking (their config.json and generation_config.json). The suite keeps
them, as AI Energy Score does (it loads the checkpoint's generation config and sets only
the length): beams multiply the decoder's batch by 4, which is part of what these
models cost. Their ``min_length`` 56 and ``max_length`` 142 give way to the suite's
``min_new_tokens`` = ``max_new_tokens``. The decoder-only configs here set no beams;
sampling parameters change no compute beyond a softmax over the vocabulary.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families.text import LLAMA_3_1_8B, QWEN_0_5B
from genwatt.models.tasks.spec import TaskModelSpec, TokenizerScheme
from genwatt.models.tasks.text_tokenizer import scheme_vocab_size

TEXT2TEXT_PIPELINE = "genwatt.models.tasks.pipelines.text2text:Text2TextGenerationPipeline"

# --- Tokenizer schemes ---------------------------------------------------------------
# Decoder-only tokenizers pad on the left for batched generation. Where the real one
# has no pad token (GPT-2, CodeGen, SmolLM, Llama, Mistral) it pads with its end token,
# as generate() itself does when a model has no pad id.


def _end_token_scheme(family: str, token: str, token_id: int, context: int) -> TokenizerScheme:
    """A byte-level BPE whose one special token is bos, eos and unk (GPT-2's scheme)."""
    end = (token, token_id)
    return TokenizerScheme(
        family,
        {"bos": end, "eos": end, "unk": end, "pad": end},
        model_max_length=context,
        padding_side="left",
    )


# tokenizer.json of openai-community/gpt2 (also distilbert/distilgpt2): 50,257 tokens,
# <|endoftext|> = 50256 is bos, eos and unk; no bos is added; model_max_length 1024.
GPT2 = _end_token_scheme("gpt2", "<|endoftext|>", 50256, 1024)

# tokenizer_config.json of microsoft/phi-2: CodeGenTokenizer (GPT-2's BPE plus
# whitespace tokens, 50,295 entries in a 51,200 embedding), <|endoftext|> = 50256 as
# bos, eos and unk; model_max_length 2048.
PHI2 = _end_token_scheme("codegen", "<|endoftext|>", 50256, 2048)

# tokenizer.json of facebook/opt-125m (the same for opt-2.7b): GPT-2's BPE renumbered,
# <s>=0 <pad>=1 </s>=2 <unk>=3; "</s>" is bos and eos and is put before every text
# (add_bos_token true).
OPT = TokenizerScheme(
    "opt",
    {"pad": ("<pad>", 1), "bos": ("</s>", 2), "eos": ("</s>", 2), "unk": ("<unk>", 3)},
    single="{bos} $A",
    model_max_length=2048,
    padding_side="left",
)

# tokenizer.json of HuggingFaceTB/SmolLM-135M (the cosmo2 tokenizer of all SmolLM v1
# sizes, 49,152 tokens): <|endoftext|>=0 is bos, eos and unk, <|im_start|>=1 and
# <|im_end|>=2 follow; no bos is added. Context 2048 (max_position_embeddings).
SMOLLM = TokenizerScheme(
    "smollm",
    {
        "bos": ("<|endoftext|>", 0),
        "eos": ("<|endoftext|>", 0),
        "unk": ("<|endoftext|>", 0),
        "pad": ("<|endoftext|>", 0),
        "im_start": ("<|im_start|>", 1),
        "im_end": ("<|im_end|>", 2),
    },
    model_max_length=2048,
    padding_side="left",
)


def _llama_sentencepiece(family: str, context: int) -> TokenizerScheme:
    """The 32,000-token SentencePiece vocabulary of Llama 1-2 and Mistral v0.1:
    <unk>=0 <s>=1 </s>=2, <s> put before every text (tokenizer.json of each repo)."""
    return TokenizerScheme(
        family,
        {"unk": ("<unk>", 0), "bos": ("<s>", 1), "eos": ("</s>", 2), "pad": ("</s>", 2)},
        single="{bos} $A",
        model_max_length=context,
        padding_side="left",
    )


MISTRAL = _llama_sentencepiece("mistral", 32768)
LLAMA2 = _llama_sentencepiece("llama2", 4096)


def _llama3(eos: tuple[str, int], context: int) -> TokenizerScheme:
    """Llama 3's 128,256-token vocabulary (tokenizer.json of meta-llama/Meta-Llama-3-8B
    and Llama-3.1-8B-Instruct): <|begin_of_text|>=128000 put before every text,
    <|end_of_text|>=128001 (the instruct model ends turns with <|eot_id|>=128009).
    Byte-level BPE has no unknown token; the word-level stand-in maps unknown words to
    <|reserved_special_token_0|>=128002, which no text produces."""
    return TokenizerScheme(
        "llama3",
        {
            "bos": ("<|begin_of_text|>", 128000),
            "eos": eos,
            "pad": ("<|end_of_text|>", 128001),
            "unk": ("<|reserved_special_token_0|>", 128002),
        },
        single="{bos} $A",
        model_max_length=context,
        padding_side="left",
    )


LLAMA3 = _llama3(("<|end_of_text|>", 128001), 8192)
LLAMA3_INSTRUCT = _llama3(("<|eot_id|>", 128009), 131072)

# tokenizer_config.json of Qwen/Qwen2.5-0.5B-Instruct: <|endoftext|>=151643 pads,
# <|im_start|>=151644, <|im_end|>=151645 ends a turn (eos); no bos is added and there is
# no unk (byte-level BPE): unknown words map to <|endoftext|>, as GPT-2's do.
# model_max_length 131072.
QWEN25 = TokenizerScheme(
    "qwen2",
    {
        "pad": ("<|endoftext|>", 151643),
        "unk": ("<|endoftext|>", 151643),
        "im_start": ("<|im_start|>", 151644),
        "eos": ("<|im_end|>", 151645),
    },
    model_max_length=131072,
    padding_side="left",
)

# tokenizer.json of facebook/bart-large-cnn (RoBERTa's BPE, shared by
# sshleifer/distilbart-cnn-12-6): <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=50264; a text is
# framed "<s> text </s>", a pair "<s> a </s></s> b </s>"; model_max_length 1024. The
# specials are listed in id order, so the tiny form keeps ids 0-3.
BART = TokenizerScheme(
    "bart",
    {
        "bos": ("<s>", 0),
        "cls": ("<s>", 0),
        "pad": ("<pad>", 1),
        "eos": ("</s>", 2),
        "sep": ("</s>", 2),
        "unk": ("<unk>", 3),
        "mask": ("<mask>", 50264),
    },
    single="{bos} $A {eos}",
    pair="{bos} $A {eos} {eos} $B {eos}",
    model_max_length=1024,
)

# --- Tiny forms ----------------------------------------------------------------------

# Every compact scheme here holds the 415 built-in words and at most 6 specials.
TINY_VOCAB = 512
TINY_WIDTH = 64


def tiny_token_ids(scheme: TokenizerScheme, **keys: str) -> dict[str, int]:
    """Config token ids (``eos_token_id="eos"``) renumbered as the tiny tokenizer has them."""
    compact = scheme.compact()
    if scheme_vocab_size(compact) > TINY_VOCAB:
        raise ValueError(f"{scheme.family}: the built-in vocabulary outgrew {TINY_VOCAB} ids")
    ids: dict[str, int] = {}
    for key, role in keys.items():
        token_id = compact.token_id(role)
        if token_id is None:
            raise ValueError(f"{scheme.family}: no special token for {key} ({role!r})")
        ids[key] = token_id
    return ids


_CAUSAL_IDS = {"bos_token_id": "bos", "eos_token_id": "eos"}


def _tiny_rotary(scheme: TokenizerScheme, kv_heads: int, bos_role: str = "bos") -> dict[str, Any]:
    """Llama, Mistral, Qwen2 and Phi at tiny size: 2 layers, 4 query heads of 16."""
    return {
        "vocab_size": TINY_VOCAB,
        "hidden_size": TINY_WIDTH,
        "intermediate_size": 2 * TINY_WIDTH,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": kv_heads,
        **tiny_token_ids(scheme, bos_token_id=bos_role, eos_token_id="eos"),
    }


def _causal(
    repo_id: str,
    family: str,
    class_name: str,
    config_class: str,
    config: dict[str, Any],
    params: int,
    published: float,
    published_source: str,
    tokenizer: TokenizerScheme,
    tiny_config: dict[str, Any],
    tiny_params: int,
    torch_dtype: str,
    aliases: tuple[str, ...],
    notes: str = "",
) -> TaskModelSpec:
    """A text-generation entry: the whole model is called once per new token."""
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=("text-generation",),
        family=family,
        class_name=class_name,
        config_class=config_class,
        config=config,
        source=f"config.json of {repo_id}",
        params=params,
        published_params=published,
        published_source=published_source,
        tokenizer=tokenizer,
        tiny_config=tiny_config,
        tiny_params=tiny_params,
        torch_dtype=torch_dtype,
        decoder="",
        aliases=aliases,
        notes=notes,
    )


# --- GPT-2 ---------------------------------------------------------------------------


def _gpt2_config(width: int, layers: int, heads: int) -> dict[str, Any]:
    """config.json of the GPT-2 checkpoints: learned positions for 1,024 tokens, GELU
    (tanh form), tied input and output embeddings."""
    return {
        "vocab_size": 50257,
        "n_positions": 1024,
        "n_embd": width,
        "n_layer": layers,
        "n_head": heads,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
    }


TINY_GPT2 = {
    "vocab_size": TINY_VOCAB,
    "n_embd": TINY_WIDTH,
    "n_layer": 2,
    "n_head": 4,
    **tiny_token_ids(GPT2, **_CAUSAL_IDS),
}
TINY_GPT2_PARAMS = 198_400


def _gpt2(
    repo_id: str,
    config: dict[str, Any],
    params: int,
    published: float,
    published_source: str,
    alias: str,
) -> TaskModelSpec:
    return _causal(
        repo_id,
        "gpt2",
        "GPT2LMHeadModel",  # transformers' causal-LM class for GPT-2 (no GPT2ForCausalLM)
        "GPT2Config",
        config,
        params,
        published,
        published_source,
        GPT2,
        TINY_GPT2,
        TINY_GPT2_PARAMS,
        "float32",
        (alias,),
    )


DISTILGPT2 = _gpt2(
    "distilbert/distilgpt2",
    _gpt2_config(768, 6, 12),
    81_912_576,
    82e6,
    "distilbert/distilgpt2 model card: 'DistilGPT2 has 82 million parameters'",
    "distilgpt2",
)
GPT2_SMALL = _gpt2(
    "openai-community/gpt2",
    _gpt2_config(768, 12, 12),
    124_439_808,
    124e6,
    "openai-community/gpt2 model card: 'the smallest version of GPT-2, with 124M parameters'",
    "gpt2",
)
GPT2_MEDIUM = _gpt2(
    "openai-community/gpt2-medium",
    _gpt2_config(1024, 24, 16),
    354_823_168,
    355e6,
    "openai-community/gpt2-medium model card: 'the 355M parameter version of GPT-2'",
    "gpt2-medium",
)
GPT2_LARGE = _gpt2(
    "openai-community/gpt2-large",
    _gpt2_config(1280, 36, 20),
    774_030_080,
    774e6,
    "openai-community/gpt2-large model card: 'the 774M parameter version of GPT-2'",
    "gpt2-large",
)
GPT2_XL = _gpt2(
    "openai-community/gpt2-xl",
    _gpt2_config(1600, 48, 25),
    1_557_611_200,
    1.5e9,
    "openai-community/gpt2-xl model card: 'the 1.5B parameter version of GPT-2'",
    "gpt2-xl",
)

# --- OPT -----------------------------------------------------------------------------


def _opt_config(width: int, layers: int, heads: int) -> dict[str, Any]:
    """config.json of facebook/opt-*: ReLU FFN of 4x width, pre-norm, learned positions
    for 2,048 tokens, tied embeddings, and the ``prefix`` "</s>" that transformers'
    text-generation pipeline puts before every prompt."""
    return {
        "vocab_size": 50272,
        "hidden_size": width,
        "ffn_dim": 4 * width,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "word_embed_proj_dim": width,
        "max_position_embeddings": 2048,
        "activation_function": "relu",
        "do_layer_norm_before": True,
        "bos_token_id": 2,
        "eos_token_id": 2,
        "pad_token_id": 1,
        "prefix": "</s>",
    }


TINY_OPT = {
    "vocab_size": TINY_VOCAB,
    "hidden_size": TINY_WIDTH,
    "ffn_dim": 2 * TINY_WIDTH,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "word_embed_proj_dim": TINY_WIDTH,
    **tiny_token_ids(OPT, pad_token_id="pad", **_CAUSAL_IDS),
}
TINY_OPT_PARAMS = 231_040

OPT_125M = _causal(
    "facebook/opt-125m",
    "opt",
    "OPTForCausalLM",
    "OPTConfig",
    _opt_config(768, 12, 12),
    125_239_296,
    125e6,
    "Zhang et al. 2022, 'OPT: Open Pre-trained Transformer Language Models', Table 1 (125M)",
    OPT,
    TINY_OPT,
    TINY_OPT_PARAMS,
    "float16",
    ("opt-125m",),
)
OPT_2_7B = _causal(
    "facebook/opt-2.7b",
    "opt",
    "OPTForCausalLM",
    "OPTConfig",
    _opt_config(2560, 32, 32),
    2_651_596_800,
    2.7e9,
    "Zhang et al. 2022, 'OPT: Open Pre-trained Transformer Language Models', Table 1 (2.7B)",
    OPT,
    TINY_OPT,
    TINY_OPT_PARAMS,
    "float16",
    ("opt-2.7b",),
)

# --- Llama-architecture models: SmolLM, Llama 2 and 3, Mistral, Qwen2.5 ----------------


def _llama_config(
    vocab: int,
    width: int,
    ffn: int,
    layers: int,
    heads: int,
    kv_heads: int,
    context: int,
    rope_theta: float,
    tied: bool,
    bos: int,
    eos: int,
) -> dict[str, Any]:
    """config.json of a LlamaForCausalLM checkpoint (SwiGLU FFN, RMSNorm, rotary
    positions, no biases)."""
    return {
        "vocab_size": vocab,
        "hidden_size": width,
        "intermediate_size": ffn,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "max_position_embeddings": context,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-5,
        "rope_theta": rope_theta,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": tied,
        "bos_token_id": bos,
        "eos_token_id": eos,
    }


_SMOLLM_SOURCE = "SmolLM blog post (Hugging Face, July 2024): 'SmolLM-135M, -360M and -1.7B'"
TINY_SMOLLM_GQA = _tiny_rotary(SMOLLM, kv_heads=2)
TINY_SMOLLM_MHA = _tiny_rotary(SMOLLM, kv_heads=4)
TINY_SMOLLM_GQA_PARAMS = 106_816
TINY_SMOLLM_MHA_PARAMS = 115_008


def _smollm(
    size: str, width: int, ffn: int, layers: int, heads: int, kv: int, params: int, published: float
) -> TaskModelSpec:
    grouped = kv < heads
    return _causal(
        f"HuggingFaceTB/SmolLM-{size}",
        "llama",
        "LlamaForCausalLM",
        "LlamaConfig",
        _llama_config(49152, width, ffn, layers, heads, kv, 2048, 10000.0, True, 0, 0),
        params,
        published,
        _SMOLLM_SOURCE,
        SMOLLM,
        TINY_SMOLLM_GQA if grouped else TINY_SMOLLM_MHA,
        TINY_SMOLLM_GQA_PARAMS if grouped else TINY_SMOLLM_MHA_PARAMS,
        "bfloat16",
        (f"smollm-{size.lower()}",),
    )


SMOLLM_135M = _smollm("135M", 576, 1536, 30, 9, 3, 134_515_008, 135e6)
SMOLLM_360M = _smollm("360M", 960, 2560, 32, 15, 5, 361_821_120, 360e6)
SMOLLM_1_7B = _smollm("1.7B", 2048, 8192, 24, 32, 32, 1_711_376_384, 1.7e9)

LLAMA2_13B = _causal(
    "meta-llama/Llama-2-13b-hf",
    "llama",
    "LlamaForCausalLM",
    "LlamaConfig",
    _llama_config(32000, 5120, 13824, 40, 40, 40, 4096, 10000.0, False, 1, 2),
    13_015_864_320,
    13e9,
    "Touvron et al. 2023, 'Llama 2: Open Foundation and Fine-Tuned Chat Models' (13B)",
    LLAMA2,
    _tiny_rotary(LLAMA2, kv_heads=4),
    147_776,
    "float16",
    ("llama-2-13b",),
)

LLAMA3_8B = _causal(
    "meta-llama/Meta-Llama-3-8B",
    "llama",
    "LlamaForCausalLM",
    "LlamaConfig",
    _llama_config(128256, 4096, 14336, 32, 32, 8, 8192, 500000.0, False, 128000, 128001),
    8_030_261_248,
    8.03e9,
    "meta-llama/Meta-Llama-3-8B model card (8B; 8.03B parameters on the Hub)",
    LLAMA3,
    _tiny_rotary(LLAMA3, kv_heads=2),
    139_584,
    "bfloat16",
    ("llama-3-8b",),
)

MISTRAL_7B = _causal(
    "mistralai/Mistral-7B-v0.1",
    "mistral",
    "MistralForCausalLM",
    "MistralConfig",
    {
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "max_position_embeddings": 32768,
        "sliding_window": 4096,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
    7_241_732_096,
    7.3e9,
    "Mistral AI, 'Mistral 7B' announcement (Sept 2023): 'a 7.3B parameter model'",
    MISTRAL,
    _tiny_rotary(MISTRAL, kv_heads=2),
    139_584,
    "bfloat16",
    ("mistral-7b",),
)

PHI2_SPEC = _causal(
    "microsoft/phi-2",
    "phi",
    "PhiForCausalLM",
    "PhiConfig",
    {
        "vocab_size": 51200,
        "hidden_size": 2560,
        "intermediate_size": 10240,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "max_position_embeddings": 2048,
        "partial_rotary_factor": 0.4,
        "rope_theta": 10000.0,
        "hidden_act": "gelu_new",
        "layer_norm_eps": 1e-5,
        "qk_layernorm": False,
        "tie_word_embeddings": False,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
    },
    2_779_683_840,
    2.7e9,
    "microsoft/phi-2 model card: 'Phi-2 is a Transformer with 2.7 billion parameters'",
    PHI2,
    _tiny_rotary(PHI2, kv_heads=4),
    132_864,
    "float16",
    ("phi-2",),
)

# The diffusion registry's two text models (genwatt.models.families.text), the same
# config dicts: Qwen2.5-0.5B-Instruct and Llama-3.1-8B-Instruct.
QWEN25_0_5B = _causal(
    "Qwen/Qwen2.5-0.5B-Instruct",
    "qwen2",
    "Qwen2ForCausalLM",
    "Qwen2Config",
    QWEN_0_5B,
    494_032_768,
    0.49e9,
    "Qwen/Qwen2.5-0.5B-Instruct model card: 'Number of Parameters: 0.49B'",
    QWEN25,
    # config.json's bos_token_id is <|endoftext|>, the pad token.
    {**_tiny_rotary(QWEN25, kv_heads=2, bos_role="pad"), "max_window_layers": 2},
    107_072,
    "bfloat16",
    ("qwen2.5-0.5b-instruct",),
)

LLAMA31_8B_INSTRUCT = _causal(
    "meta-llama/Llama-3.1-8B-Instruct",
    "llama",
    "LlamaForCausalLM",
    "LlamaConfig",
    LLAMA_3_1_8B,
    8_030_261_248,
    8.03e9,
    "meta-llama/Llama-3.1-8B-Instruct model card (8B; 8.03B parameters on the Hub)",
    LLAMA3_INSTRUCT,
    _tiny_rotary(LLAMA3_INSTRUCT, kv_heads=2),
    139_584,
    "bfloat16",
    ("llama-3.1-8b-instruct",),
    notes="config.json ends generation at any of <|end_of_text|>, <|eom_id|> and "
    "<|eot_id|>; the tiny form keeps the one end token its tokenizer has.",
)

# --- Summarization: BART fine-tuned on CNN/DailyMail -----------------------------------


def _bart_config(encoder_layers: int, decoder_layers: int) -> dict[str, Any]:
    """config.json of the BART-large CNN checkpoints: 1,024 wide, 16 heads, FFN 4,096,
    learned positions for 1,024 tokens, embeddings shared by encoder, decoder and LM head.
    Decoding starts from </s> (decoder_start_token_id 2)."""
    return {
        "vocab_size": 50264,
        "d_model": 1024,
        "encoder_layers": encoder_layers,
        "decoder_layers": decoder_layers,
        "encoder_attention_heads": 16,
        "decoder_attention_heads": 16,
        "encoder_ffn_dim": 4096,
        "decoder_ffn_dim": 4096,
        "max_position_embeddings": 1024,
        "activation_function": "gelu",
        "scale_embedding": False,
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "decoder_start_token_id": 2,
        "forced_eos_token_id": 2,
        "is_encoder_decoder": True,
    }


# Summarization defaults of both checkpoints (config.json, and generation_config.json of
# facebook/bart-large-cnn): 4 beams, length penalty 2.0, no repeated trigram, stop when
# every beam has ended. Their lengths (min_length 56, max_length 142) are left out: the
# suite's min_new_tokens = max_new_tokens replace them (and generate() warns at both).
_CNN_GENERATION: dict[str, Any] = {
    "num_beams": 4,
    "length_penalty": 2.0,
    "no_repeat_ngram_size": 3,
    "early_stopping": True,
}

_BART_TINY_IDS = tiny_token_ids(
    BART,
    bos_token_id="bos",
    pad_token_id="pad",
    eos_token_id="eos",
    decoder_start_token_id="eos",
    forced_eos_token_id="eos",
)


def _tiny_bart(decoder_layers: int) -> dict[str, Any]:
    return {
        "vocab_size": TINY_VOCAB,
        "d_model": TINY_WIDTH,
        "encoder_layers": 2,
        "decoder_layers": decoder_layers,
        "encoder_attention_heads": 4,
        "decoder_attention_heads": 4,
        "encoder_ffn_dim": 2 * TINY_WIDTH,
        "decoder_ffn_dim": 2 * TINY_WIDTH,
        **_BART_TINY_IDS,
    }


_BEAMS_NOTE = (
    "Keeps the checkpoint's 4 beams, length penalty and trigram blocking (AI Energy "
    "Score sets only the length); the suite fixes the length at exactly new_tokens "
    "in place of the checkpoint's min_length 56 / max_length 142."
)
_DISTILBART_CARD = (
    "sshleifer/distilbart-cnn-12-6 model card, table of checkpoints: "
    "distilbart-cnn-12-6 306M, bart-large-cnn 406M"
)

BART_LARGE_CNN = TaskModelSpec(
    repo_id="facebook/bart-large-cnn",
    tasks=("summarization",),
    family="bart",
    class_name="BartForConditionalGeneration",
    config_class="BartConfig",
    config=_bart_config(12, 12),
    source="config.json of facebook/bart-large-cnn",
    params=406_290_432,
    published_params=406e6,
    published_source=_DISTILBART_CARD,
    tokenizer=BART,
    tiny_config=_tiny_bart(2),
    tiny_params=331_776,
    # generation_config.json also forces <s> as the first generated token.
    generation={**_CNN_GENERATION, "forced_bos_token_id": 0},
    encoder="model.encoder",
    decoder="",
    pipeline=TEXT2TEXT_PIPELINE,
    aliases=("bart-large-cnn",),
    notes=_BEAMS_NOTE,
)

DISTILBART_CNN_12_6 = TaskModelSpec(
    repo_id="sshleifer/distilbart-cnn-12-6",
    tasks=("summarization",),
    family="bart",
    class_name="BartForConditionalGeneration",
    config_class="BartConfig",
    config=_bart_config(12, 6),
    source="config.json of sshleifer/distilbart-cnn-12-6 (bart-large-cnn with 6 of its "
    "12 decoder layers kept)",
    params=305_510_400,
    published_params=306e6,
    published_source=_DISTILBART_CARD,
    tokenizer=BART,
    tiny_config=_tiny_bart(1),
    tiny_params=281_536,
    generation=_CNN_GENERATION,
    encoder="model.encoder",
    decoder="",
    pipeline=TEXT2TEXT_PIPELINE,
    aliases=("distilbart-cnn-12-6",),
    notes=_BEAMS_NOTE,
)

SPECS: tuple[TaskModelSpec, ...] = (
    DISTILGPT2,
    GPT2_SMALL,
    GPT2_MEDIUM,
    GPT2_LARGE,
    GPT2_XL,
    OPT_125M,
    OPT_2_7B,
    SMOLLM_135M,
    SMOLLM_360M,
    SMOLLM_1_7B,
    PHI2_SPEC,
    MISTRAL_7B,
    LLAMA3_8B,
    LLAMA2_13B,
    QWEN25_0_5B,
    LLAMA31_8B_INSTRUCT,
    BART_LARGE_CNN,
    DISTILBART_CNN_12_6,
)
