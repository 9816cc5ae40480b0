"""Text generation: a small model (Qwen2.5-0.5B-Instruct) and an 8B one (Llama 3.1).

Decoder-only transformers; energy goes with prompt tokens (one parallel prefill) and new
tokens (one sequential step each), which is why ``max_new_tokens`` is a parameter here.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import hub_source, tiny_part, tiny_spec
from genwatt.models.spec import ComponentSpec, Defaults, ModelSpec, TokenizerSpec
from genwatt.models.tokenizer import TokenizerKind, token_id, vocab_size

REPO_QWEN = "Qwen/Qwen2.5-0.5B-Instruct"
REPO_LLAMA = "meta-llama/Llama-3.1-8B-Instruct"

# config.json of Qwen/Qwen2.5-0.5B-Instruct: 24 layers, 14 query / 2 key-value heads of
# 64, tied input and output embeddings.
QWEN_0_5B: dict[str, Any] = {
    "vocab_size": 151936,
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "hidden_act": "silu",
    "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": True,
    "use_sliding_window": False,
    "sliding_window": 32768,
    "max_window_layers": 21,
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
}

# config.json of meta-llama/Llama-3.1-8B-Instruct: 32 layers, 32 query / 8 key-value
# heads of 128, llama3 rope scaling to a 128k context.
LLAMA_3_1_8B: dict[str, Any] = {
    "vocab_size": 128256,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "hidden_act": "silu",
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "rope_scaling": {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
    },
    "attention_bias": False,
    "mlp_bias": False,
    "tie_word_embeddings": False,
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
}


def _real(
    name: str,
    repo: str,
    family: str,
    architecture: str,
    config: dict[str, Any],
    params: int,
    published: float,
    published_source: str,
    kind: TokenizerKind,
    max_new_tokens: int,
    aliases: tuple[str, ...],
) -> ModelSpec:
    """An instruct model of ``repo``: ``<architecture>ForCausalLM`` in bfloat16, its prompt
    limit the context length of its config, ``max_new_tokens`` from the model card."""
    context = config["max_position_embeddings"]
    return ModelSpec(
        name=name,
        repo_id=repo,
        task="text",
        family=family,
        components=(
            ComponentSpec(
                name="model",
                role="lm",
                library="transformers",
                class_name=f"{architecture}ForCausalLM",
                config_class=f"{architecture}Config",
                config=config,
                source=hub_source(repo),
                params=params,
                published_params=published,
                published_source=published_source,
            ),
        ),
        tokenizers=(TokenizerSpec("tokenizer", kind, context, padding_side="left"),),
        defaults=Defaults(
            max_text_tokens=512,
            max_new_tokens=max_new_tokens,
            source=f"{repo} model card example (max_new_tokens={max_new_tokens})",
        ),
        torch_dtype="bfloat16",
        tiny_name=f"{family}-tiny",
        guidance_kind="none",
        max_text_tokens_limit=context,
        aliases=(repo, *aliases),
        published_params=published,
    )


QWEN = _real(
    "qwen2.5-0.5b-instruct",
    REPO_QWEN,
    "qwen2",
    "Qwen2",
    QWEN_0_5B,
    494_032_768,
    0.49e9,
    f"{REPO_QWEN} model card: 'Number of Parameters: 0.49B'",
    "qwen2",
    512,
    ("qwen2.5-0.5b",),
)

LLAMA = _real(
    "llama-3.1-8b-instruct",
    REPO_LLAMA,
    "llama",
    "Llama",
    LLAMA_3_1_8B,
    8_030_261_248,
    8.03e9,
    f"{REPO_LLAMA} model card (8B; 8.03B on the Hub)",
    "llama3",
    256,
    ("llama-3.1-8b", "meta-llama/Meta-Llama-3.1-8B-Instruct"),
)

# --- tiny ------------------------------------------------------------------------------
# Each architecture at 2 layers of 64 wide, grouped-query attention kept (4 q / 2 kv),
# vocabulary of the built-in tokenizer.


def _tiny_config(real: dict[str, Any], kind: TokenizerKind) -> dict[str, Any]:
    config = {
        **real,
        "vocab_size": vocab_size(kind),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 1024,
        "bos_token_id": token_id(kind, "bos"),
        "eos_token_id": token_id(kind, "eos"),
        "pad_token_id": token_id(kind, "pad"),
    }
    if "rope_scaling" in config:
        config["rope_scaling"] = {**config["rope_scaling"], "original_max_position_embeddings": 256}
    if "sliding_window" in config:
        config["sliding_window"] = 1024
        config["max_window_layers"] = 2
    return config


def _tiny(real: ModelSpec, kind: TokenizerKind, params: int) -> ModelSpec:
    lm = real.denoiser
    return tiny_spec(
        real,
        components=(
            tiny_part(lm, _tiny_config(dict(lm.config), kind), real.repo_id or "", params),
        ),
        defaults=Defaults(max_text_tokens=64, max_new_tokens=16),
        tokenizers=(TokenizerSpec("tokenizer", kind, 1024, padding_side="left"),),
        max_text_tokens_limit=1024,
    )


QWEN_TINY = _tiny(QWEN, "qwen2", 101_120)
LLAMA_TINY = _tiny(LLAMA, "llama3", 127_936)

SPECS: tuple[ModelSpec, ...] = (QWEN, LLAMA, QWEN_TINY, LLAMA_TINY)
