"""The built-in tokenizers behave like the real ones where a pipeline can tell."""

from __future__ import annotations

import pytest

from genwatt.errors import ConfigError
from genwatt.models import get_model, list_models
from genwatt.models.components import load_object
from genwatt.models.tokenizer import build_tokenizer, token_id, vocab, vocab_size

PROMPT = "A cat walks on the grass, realistic"


def test_t5_appends_eos_and_pads_with_id_zero_on_the_right() -> None:
    tok = build_tokenizer("t5", 512)
    enc = tok(PROMPT, padding="max_length", max_length=16, truncation=True)
    ids = enc["input_ids"]
    assert len(ids) == 16
    assert tok.pad_token_id == 0 and tok.eos_token_id == 1 and tok.unk_token_id == 2
    n = sum(enc["attention_mask"])
    assert ids[n - 1] == tok.eos_token_id  # "a cat walks on the grass , realistic </s>"
    assert n == 9
    assert ids[n:] == [0] * (16 - n)
    assert tok.padding_side == "right"


def test_clip_wraps_in_bos_eos_pads_with_eos_and_keeps_them_at_the_top_of_the_vocab() -> None:
    tok = build_tokenizer("clip", 77)
    enc = tok(PROMPT, padding="max_length", max_length=tok.model_max_length, truncation=True)
    ids = enc["input_ids"]
    assert len(ids) == 77 and tok.model_max_length == 77
    assert ids[0] == tok.bos_token_id
    assert tok.pad_token_id == tok.eos_token_id
    # Legacy CLIP configs (eos_token_id 2) pool at argmax(input_ids): that must be eos.
    assert tok.eos_token_id == vocab_size("clip") - 1
    assert ids.index(max(ids)) == sum(enc["attention_mask"]) - 1


def test_sdxl_second_tokenizer_can_pad_with_an_exclamation_mark() -> None:
    tok = build_tokenizer("clip", 77, pad_token="!")
    assert tok.pad_token == "!"
    assert tok.pad_token_id == vocab("clip")["!"]


def test_unknown_words_map_to_unk_and_text_is_lower_cased() -> None:
    tok = build_tokenizer("t5", 64)
    assert tok("Xyzzyqq")["input_ids"] == [tok.unk_token_id, tok.eos_token_id]
    assert tok("CAT")["input_ids"] == tok("cat")["input_ids"]


def test_llama3_keeps_chat_markers_whole_and_prepends_bos() -> None:
    tok = build_tokenizer("llama3", 256)
    ids = tok("<|start_header_id|>system<|end_header_id|> describe")["input_ids"]
    v = vocab("llama3")
    assert ids[:3] == [v["<|begin_of_text|>"], v["<|start_header_id|>"], v["system"]]
    assert ids[3] == v["<|end_header_id|>"]


def test_qwen2_has_no_bos_and_left_padding_when_asked() -> None:
    tok = build_tokenizer("qwen2", 128, padding_side="left")
    assert tok.bos_token is None
    enc = tok(["cat", "a big cat"], padding=True)
    assert enc["input_ids"][0][0] == tok.pad_token_id
    assert tok.eos_token == "<|im_end|>"


def test_unknown_kind_and_unknown_pad_token_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="t5"):
        build_tokenizer("bpe", 8)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not in the built-in"):
        build_tokenizer("clip", 77, pad_token="<nope>")


def test_token_ids_agree_with_the_tokenizer() -> None:
    for kind in ("t5", "clip", "llama3", "qwen2"):
        tok = build_tokenizer(kind, 64)
        assert len(tok) == vocab_size(kind)
        assert token_id(kind, "eos") == tok.eos_token_id
        assert token_id(kind, "pad") == tok.pad_token_id


def test_every_text_encoder_has_room_for_every_id_of_its_tokenizer() -> None:
    """A tiny encoder's table is exactly the tokenizer's size; a real one is larger; one
    trained with its own tokenizer (wan-reference) is exactly that tokenizer's size."""
    checked = 0
    for spec in list_models():
        tokenizers = {t.name: t for t in spec.tokenizers}
        for comp in spec.components:
            if comp.role == "lm":
                tokenizer = tokenizers["tokenizer"]
            elif comp.role == "text_encoder":
                tokenizer = tokenizers["tokenizer" + comp.name.removeprefix("text_encoder")]
            else:
                continue
            size, kind = comp.config["vocab_size"], tokenizer.kind
            if tokenizer.factory:
                assert size == len(load_object(tokenizer.factory)()), f"{spec.name}/{comp.name}"
            elif spec.is_tiny:
                assert size == vocab_size(kind), f"{spec.name}/{comp.name}"
            else:
                assert size > vocab_size(kind), f"{spec.name}/{comp.name}"
            checked += 1
    assert checked >= 30


def test_the_reference_tokenizer_has_t5s_special_tokens_and_its_own_words() -> None:
    (spec,) = get_model("wan-reference").tokenizers
    assert spec.factory is not None
    tok = load_object(spec.factory)()
    specials = (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id)
    assert specials == tuple(token_id("t5", role) for role in ("pad", "eos", "unk"))
    assert tok.padding_side == "right" and tok.model_max_length == spec.model_max_length
    ids = tok("A red circle moves left")["input_ids"]
    assert tok.unk_token_id not in ids and ids[-1] == tok.eos_token_id and len(ids) == 6
