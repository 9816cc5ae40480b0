"""Tokenizers for the suite's text models, built in code from a ``TokenizerScheme``.

As for the diffusion models (``genwatt.models.tokenizer``), energy depends on how many
tokens reach the model, not on which ids they are. The vocabulary is the built-in word
list (one token per known word, ``unk`` for any other), with each family's special
tokens at the ids its real vocabulary gives them and its framing of a text or a pair
(``[CLS] a [SEP] b [SEP]``, ``<s> a </s></s> b </s>``, ``a </s>``). Offsets are kept, as
the question-answering and token-classification pipelines need them.

Real tokenizers split words into subwords (about 1.3 tokens per English word for
BERT's WordPiece); the suite's built-in inputs are drawn from the word list and sized
in tokens, so they are exact, but a user's own text through this tokenizer gets one
token per word. Pretrained weights load the real tokenizer instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genwatt.models.tasks.spec import TokenizerScheme
from genwatt.models.tokenizer import plain_tokens

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

# transformers' keyword for each special role.
_ROLE_ARGS = {
    "cls": "cls_token",
    "sep": "sep_token",
    "bos": "bos_token",
    "eos": "eos_token",
    "pad": "pad_token",
    "unk": "unk_token",
    "mask": "mask_token",
}


def scheme_vocab(scheme: TokenizerScheme) -> dict[str, int]:
    """Token -> id: the specials at their ids, the words at the lowest free ids."""
    ids = {token: i for token, i in scheme.specials.values()}
    taken = set(ids.values())
    next_id = 0
    for token in plain_tokens():
        if token in ids:
            continue
        while next_id in taken:
            next_id += 1
        ids[token] = next_id
        taken.add(next_id)
    return ids


def scheme_vocab_size(scheme: TokenizerScheme) -> int:
    """The smallest embedding table this tokenizer's ids fit in."""
    return max(scheme_vocab(scheme).values()) + 1


def _template(text: str, scheme: TokenizerScheme) -> str:
    for role, (token, _) in scheme.specials.items():
        text = text.replace("{" + role + "}", token)
    return text


def build_scheme_tokenizer(scheme: TokenizerScheme) -> PreTrainedTokenizerFast:
    """A fast tokenizer with the specials, framing and limits of ``scheme``."""
    from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    ids = scheme_vocab(scheme)
    unk = scheme.specials["unk"][0]
    core = Tokenizer(WordLevel(vocab=ids, unk_token=unk))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = list(dict.fromkeys(token for token, _ in scheme.specials.values()))
    core.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    single = _template(scheme.single, scheme)
    pair = _template(scheme.pair, scheme) if scheme.pair else None
    used = {t.split(":")[0] for t in f"{single} {pair or ''}".split() if t.split(":")[0] in ids}
    core.post_processor = processors.TemplateProcessing(
        single=single,
        pair=pair,
        special_tokens=[(t, ids[t]) for t in sorted(used)],
    )
    roles = {
        _ROLE_ARGS[role]: token
        for role, (token, _) in scheme.specials.items()
        if role in _ROLE_ARGS
    }
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        model_max_length=scheme.model_max_length,
        padding_side=scheme.padding_side,
        **roles,
    )
