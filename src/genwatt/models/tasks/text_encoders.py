"""Encoder models of the text tasks: classification, entities, extractive QA, fill-mask
and sentence similarity.

Each entry is the checkpoint's real ``config.json`` (cited), its exact parameter count
(rebuilt on the meta device by a test) and a tiny form of the same classes. Values of a
config that only training reads (dropout, initialiser range) are left at the
transformers defaults, which are the same numbers.

Extractive QA and sentence similarity have no transformers pipeline (the first left
transformers in v5, the second never had one): their entries name genwatt's
(``genwatt.models.tasks.pipelines``).
"""

from __future__ import annotations

from typing import Any

from genwatt.models.tasks.spec import TaskModelSpec, TokenizerScheme
from genwatt.models.tasks.tokenizer_schemes import BERT

_PIPELINES = "genwatt.models.tasks.pipelines"
QA_PIPELINE = f"{_PIPELINES}.question_answering:ExtractiveQuestionAnsweringPipeline"
SIMILARITY_PIPELINE = f"{_PIPELINES}.sentence_similarity:SentenceSimilarityPipeline"

# --- Tokenizer schemes of this family (the BERT uncased one is shared) --------------

# vocab.txt of google-bert/bert-base-cased (28,996 entries; also dslim/bert-base-NER and
# distilbert/distilbert-base-cased-distilled-squad): the specials sit where the uncased
# vocabulary has them. Cased: the real tokenizer keeps capitals (the built-in word list
# is lower case and looks words up case-folded, which changes no token count).
BERT_CASED = TokenizerScheme(
    "bert-cased",
    dict(BERT.specials),
    single=BERT.single,
    pair=BERT.pair,
    model_max_length=512,
    lowercase=False,
)

# tokenizer.json of FacebookAI/roberta-base (byte-level BPE, 50,265 entries): <s>=0,
# <pad>=1, </s>=2, <unk>=3, <mask>=50264; a pair is framed "<s> A </s></s> B </s>", and
# every type id is 0 (type_vocab_size 1).
ROBERTA = TokenizerScheme(
    "roberta",
    {
        "bos": ("<s>", 0),
        "cls": ("<s>", 0),
        "pad": ("<pad>", 1),
        "eos": ("</s>", 2),
        "sep": ("</s>", 2),
        "unk": ("<unk>", 3),
        "mask": ("<mask>", 50264),
    },
    single="{cls} $A {sep}",
    pair="{cls} $A {sep} {sep} $B {sep}",
    model_max_length=512,
)

# tokenizer_config.json and spm.model of microsoft/deberta-v3-base, which
# deepset/deberta-v3-base-squad2 ships: [PAD]=0, [CLS]=1, [SEP]=2, [UNK]=3,
# [MASK]=128000; BERT's framing; not lower-cased (do_lower_case false).
DEBERTA_V3 = TokenizerScheme(
    "deberta-v3",
    {
        "pad": ("[PAD]", 0),
        "cls": ("[CLS]", 1),
        "sep": ("[SEP]", 2),
        "unk": ("[UNK]", 3),
        "mask": ("[MASK]", 128000),
    },
    single="{cls} $A {sep}",
    pair="{cls} $A {sep} $B:1 {sep}:1",
    model_max_length=512,
)

# tokenizer.json of openai-community/gpt2-medium (byte-level BPE, 50,257 entries): one
# special, <|endoftext|>=50256, which is the beginning, end and unknown token, and the
# padding token the fine-tuned SST-2 classifier sets; no framing; 1,024 positions.
GPT2 = TokenizerScheme(
    "gpt2",
    {
        "bos": ("<|endoftext|>", 50256),
        "eos": ("<|endoftext|>", 50256),
        "unk": ("<|endoftext|>", 50256),
        "pad": ("<|endoftext|>", 50256),
    },
    single="$A",
    model_max_length=1024,
)

# --- Architectures -----------------------------------------------------------------

# config.json of google-bert/bert-base-uncased; every BERT-base checkpoint below
# repeats these values (BGE-small changes the sizes).
BERT_BASE: dict[str, Any] = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "vocab_size": 30522,
}
# config.json of google-bert/bert-large-uncased: 24 layers of 1,024 with 16 heads.
BERT_LARGE: dict[str, Any] = {
    **BERT_BASE,
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
}
CASED_VOCAB = 28996  # vocab.txt of google-bert/bert-base-cased and bert-large-cased

# --- Tiny forms: 2 layers of 32 wide with 2 heads, and the built-in vocabulary ---------
# (``scheme_vocab_size`` of each compact scheme is 416 to 420 ids; 512 holds them).

TINY_VOCAB = 512
TINY_BERT: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "vocab_size": TINY_VOCAB,
    "pad_token_id": 0,
}
TINY_DISTILBERT: dict[str, Any] = {
    "dim": 32,
    "n_layers": 2,
    "n_heads": 2,
    "hidden_dim": 64,
    "vocab_size": TINY_VOCAB,
    "pad_token_id": 0,
}
# RoBERTa's compact ids keep <s>=0, <pad>=1, </s>=2 (the real order).
TINY_ROBERTA: dict[str, Any] = {
    **TINY_BERT,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
}
TINY_DEBERTA: dict[str, Any] = {**TINY_BERT, "position_buckets": 16}
TINY_GPT2: dict[str, Any] = {
    "n_embd": 32,
    "n_layer": 2,
    "n_head": 2,
    "vocab_size": TINY_VOCAB,
    "bos_token_id": 0,
    "eos_token_id": 0,
    "pad_token_id": 0,
}


def _labels(*names: str) -> dict[str, Any]:
    """``id2label`` and ``label2id`` of a classification head, in id order."""
    return {
        "id2label": dict(enumerate(names)),
        "label2id": {name: i for i, name in enumerate(names)},
    }


# Label words of the SST-2 heads, in id order (0 negative, 1 positive), as each
# checkpoint's config.json spells them.
SST2_LABELS = ("NEGATIVE", "POSITIVE")
# Fine-tuned with transformers' run_glue on GLUE SST-2, which names the classes after
# the dataset's ClassLabel ("negative", "positive").
GLUE_SST2_LABELS = ("negative", "positive")
# No id2label in the config: transformers' defaults, LABEL_0 negative, LABEL_1 positive.
DEFAULT_LABELS = ("LABEL_0", "LABEL_1")
# CoNLL-2003 tags of dslim/bert-base-NER, in id order (its config.json).
CONLL_LABELS = ("O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

# --- text-classification -------------------------------------------------------------

# config.json of distilbert/distilbert-base-uncased-finetuned-sst-2-english.
DISTILBERT_SST2 = TaskModelSpec(
    repo_id="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    tasks=("text-classification",),
    family="distilbert",
    class_name="DistilBertForSequenceClassification",
    config_class="DistilBertConfig",
    config={
        "vocab_size": 30522,
        "dim": 768,
        "n_layers": 6,
        "n_heads": 12,
        "hidden_dim": 3072,
        "max_position_embeddings": 512,
        "activation": "gelu",
        "id2label": {0: "NEGATIVE", 1: "POSITIVE"},
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "pad_token_id": 0,
    },
    source="config.json of distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    params=66_955_010,
    published_params=67e6,
    published_source="model card: 'DistilBERT base uncased, fine-tuned on SST-2' (67M)",
    tokenizer=BERT,
    tiny_config=TINY_DISTILBERT,
    tiny_params=51_042,
    labels=SST2_LABELS,
    aliases=("distilbert-sst2",),
)

# config.json of Cheng98/bert-large-sst2: bert-large-cased fine-tuned on GLUE SST-2 with
# transformers' run_glue (its model card), two classes.
BERT_LARGE_SST2 = TaskModelSpec(
    repo_id="Cheng98/bert-large-sst2",
    tasks=("text-classification",),
    family="bert",
    class_name="BertForSequenceClassification",
    config_class="BertConfig",
    config={**BERT_LARGE, "vocab_size": CASED_VOCAB, **_labels(*GLUE_SST2_LABELS)},
    source="config.json of Cheng98/bert-large-sst2 (bert-large-cased's, plus the SST-2 head)",
    params=333_581_314,
    published_params=340e6,
    published_source="Devlin et al. 2019 (BERT, arXiv 1810.04805), section 3: BERT-large, 340M",
    tokenizer=BERT_CASED,
    tiny_config=TINY_BERT,
    tiny_params=51_106,
    labels=GLUE_SST2_LABELS,
    aliases=("bert-large-sst2",),
    notes="Labels and vocabulary as run_glue writes them for bert-large-cased on SST-2.",
)

# config.json of michelecafagna26/gpt2-medium-finetuned-sst2-sentiment: gpt2-medium's
# config with a two-class score head and pad_token_id 50256 (GPT-2 has no padding token;
# the classifier reads the last non-padding token, so batching needs one).
GPT2_MEDIUM_SST2 = TaskModelSpec(
    repo_id="michelecafagna26/gpt2-medium-finetuned-sst2-sentiment",
    tasks=("text-classification",),
    family="gpt2",
    class_name="GPT2ForSequenceClassification",
    config_class="GPT2Config",
    config={
        "vocab_size": 50257,
        "n_positions": 1024,
        "n_embd": 1024,
        "n_layer": 24,
        "n_head": 16,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
        "pad_token_id": 50256,
        **_labels(*DEFAULT_LABELS),
    },
    source="config.json of michelecafagna26/gpt2-medium-finetuned-sst2-sentiment "
    "(openai-community/gpt2-medium's, plus the score head and pad_token_id)",
    params=354_825_216,
    published_params=355e6,
    published_source="model card of openai-community/gpt2-medium: 'the 355M parameter version'",
    tokenizer=GPT2,
    tiny_config=TINY_GPT2,
    tiny_params=74_688,
    labels=DEFAULT_LABELS,
    aliases=("gpt2-medium-sst2",),
    notes="The config names no labels: LABEL_0 is negative, LABEL_1 positive (model card).",
)

# --- token-classification ------------------------------------------------------------

# config.json of dslim/bert-base-NER: bert-base-cased with a CoNLL-2003 head of 9 tags.
BERT_BASE_NER = TaskModelSpec(
    repo_id="dslim/bert-base-NER",
    tasks=("token-classification",),
    family="bert",
    class_name="BertForTokenClassification",
    config_class="BertConfig",
    config={**BERT_BASE, "vocab_size": CASED_VOCAB, **_labels(*CONLL_LABELS)},
    source="config.json of dslim/bert-base-NER",
    params=107_726_601,
    published_params=110e6,
    published_source="Devlin et al. 2019 (BERT, arXiv 1810.04805), section 3: BERT-base, 110M",
    tokenizer=BERT_CASED,
    tiny_config=TINY_BERT,
    tiny_params=50_281,
    labels=CONLL_LABELS,
    aliases=("bert-base-ner",),
)

# --- question-answering --------------------------------------------------------------

# config.json of distilbert/distilbert-base-cased-distilled-squad.
DISTILBERT_SQUAD = TaskModelSpec(
    repo_id="distilbert/distilbert-base-cased-distilled-squad",
    tasks=("question-answering",),
    family="distilbert",
    class_name="DistilBertForQuestionAnswering",
    config_class="DistilBertConfig",
    config={
        "vocab_size": CASED_VOCAB,
        "dim": 768,
        "n_layers": 6,
        "n_heads": 12,
        "hidden_dim": 3072,
        "max_position_embeddings": 512,
        "activation": "gelu",
        "pad_token_id": 0,
    },
    source="config.json of distilbert/distilbert-base-cased-distilled-squad",
    params=65_192_450,
    published_params=66e6,
    published_source="Sanh et al. 2019 (DistilBERT, arXiv 1910.01108), table 3: 66M",
    tokenizer=BERT_CASED,
    tiny_config=TINY_DISTILBERT,
    tiny_params=49_986,
    pipeline=QA_PIPELINE,
    aliases=("distilbert-squad",),
)

# config.json of deepset/bert-large-uncased-whole-word-masking-squad2.
BERT_LARGE_SQUAD2 = TaskModelSpec(
    repo_id="deepset/bert-large-uncased-whole-word-masking-squad2",
    tasks=("question-answering",),
    family="bert",
    class_name="BertForQuestionAnswering",
    config_class="BertConfig",
    config=BERT_LARGE,
    source="config.json of deepset/bert-large-uncased-whole-word-masking-squad2",
    params=334_094_338,
    published_params=340e6,
    published_source="Devlin et al. 2019 (BERT, arXiv 1810.04805), section 3: BERT-large, 340M",
    tokenizer=BERT,
    tiny_config=TINY_BERT,
    tiny_params=50_050,
    pipeline=QA_PIPELINE,
    aliases=("bert-large-squad2",),
)

# config.json of deepset/deberta-v3-base-squad2 (microsoft/deberta-v3-base's): relative
# attention over 256 log buckets, disentangled content-to-position and
# position-to-content terms with shared keys, no absolute positions, no type ids.
DEBERTA_V3_SQUAD2 = TaskModelSpec(
    repo_id="deepset/deberta-v3-base-squad2",
    tasks=("question-answering",),
    family="deberta-v2",
    class_name="DebertaV2ForQuestionAnswering",
    config_class="DebertaV2Config",
    config={
        "vocab_size": 128100,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "max_position_embeddings": 512,
        "type_vocab_size": 0,
        "layer_norm_eps": 1e-7,
        "relative_attention": True,
        "max_relative_positions": -1,
        "position_buckets": 256,
        "norm_rel_ebd": "layer_norm",
        "share_att_key": True,
        "pos_att_type": ["p2c", "c2p"],
        "position_biased_input": False,
        "pad_token_id": 0,
    },
    source="config.json of deepset/deberta-v3-base-squad2",
    params=183_833_090,
    published_params=184e6,
    published_source="model card of microsoft/deberta-v3-base: 86M backbone parameters and "
    "98M in the embedding layer (128K tokens)",
    tokenizer=DEBERTA_V3,
    tiny_config=TINY_DEBERTA,
    tiny_params=34_690,
    pipeline=QA_PIPELINE,
    aliases=("deberta-v3-squad2",),
)

# --- fill-mask -----------------------------------------------------------------------

# config.json of google-bert/bert-base-uncased (the MLM head's decoder is tied to the
# word embeddings; its bias is its own).
BERT_BASE_UNCASED = TaskModelSpec(
    repo_id="google-bert/bert-base-uncased",
    tasks=("fill-mask",),
    family="bert",
    class_name="BertForMaskedLM",
    config_class="BertConfig",
    config=BERT_BASE,
    source="config.json of google-bert/bert-base-uncased",
    params=109_514_298,
    published_params=110e6,
    published_source="Devlin et al. 2019 (BERT, arXiv 1810.04805), section 3: BERT-base, 110M",
    tokenizer=BERT,
    tiny_config=TINY_BERT,
    tiny_params=51_616,
    aliases=("bert-base-uncased",),
)

# config.json of FacebookAI/roberta-base: positions start after the padding id (ids
# pad+1 onwards), hence 514 position embeddings for 512 tokens.
ROBERTA_BASE = TaskModelSpec(
    repo_id="FacebookAI/roberta-base",
    tasks=("fill-mask",),
    family="roberta",
    class_name="RobertaForMaskedLM",
    config_class="RobertaConfig",
    config={
        **BERT_BASE,
        "vocab_size": 50265,
        "max_position_embeddings": 514,
        "type_vocab_size": 1,
        "layer_norm_eps": 1e-5,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "pad_token_id": 1,
    },
    source="config.json of FacebookAI/roberta-base",
    params=124_697_433,
    published_params=125e6,
    published_source="fairseq's RoBERTa README (Liu et al. 2019, arXiv 1907.11692): "
    "roberta.base, 125M",
    tokenizer=ROBERTA,
    tiny_config=TINY_ROBERTA,
    tiny_params=51_648,
    aliases=("roberta-base",),
)

# --- sentence-similarity -------------------------------------------------------------

# config.json of BAAI/bge-small-en-v1.5: BERT with 12 layers of 384 (12 heads of 32).
# BGE embeds a sentence as its [CLS] vector, L2-normalised (its sentence-transformers
# config, 1_Pooling/config.json: pooling_mode_cls_token).
BGE_SMALL = TaskModelSpec(
    repo_id="BAAI/bge-small-en-v1.5",
    tasks=("sentence-similarity",),
    family="bge",
    class_name="BertModel",
    config_class="BertConfig",
    config={**BERT_BASE, "hidden_size": 384, "intermediate_size": 1536},
    source="config.json of BAAI/bge-small-en-v1.5",
    params=33_360_000,
    published_params=33.4e6,
    published_source="Hub safetensors metadata of BAAI/bge-small-en-v1.5 (33.4M params)",
    tokenizer=BERT,
    tiny_config=TINY_BERT,
    tiny_params=51_040,
    pipeline=SIMILARITY_PIPELINE,
    pipeline_kwargs={"pooling": "cls"},
    aliases=("bge-small",),
)

# config.json of BAAI/bge-base-en-v1.5: BERT-base; [CLS] pooling as BGE-small.
BGE_BASE = TaskModelSpec(
    repo_id="BAAI/bge-base-en-v1.5",
    tasks=("sentence-similarity",),
    family="bge",
    class_name="BertModel",
    config_class="BertConfig",
    config=BERT_BASE,
    source="config.json of BAAI/bge-base-en-v1.5",
    params=109_482_240,
    published_params=109e6,
    published_source="Hub safetensors metadata of BAAI/bge-base-en-v1.5 (109M params)",
    tokenizer=BERT,
    tiny_config=TINY_BERT,
    tiny_params=51_040,
    pipeline=SIMILARITY_PIPELINE,
    pipeline_kwargs={"pooling": "cls"},
    aliases=("bge-base",),
)

# config.json of intfloat/e5-large-v2: BERT-large. E5 averages the token vectors under
# the attention mask and expects every text prefixed "query: " or "passage: " (model
# card); the suite compares two sentences symmetrically, so both get "query: ".
E5_LARGE = TaskModelSpec(
    repo_id="intfloat/e5-large-v2",
    tasks=("sentence-similarity",),
    family="e5",
    class_name="BertModel",
    config_class="BertConfig",
    config=BERT_LARGE,
    source="config.json of intfloat/e5-large-v2",
    params=335_141_888,
    published_params=335e6,
    published_source="Hub safetensors metadata of intfloat/e5-large-v2 (335M params)",
    tokenizer=BERT,
    tiny_config=TINY_BERT,
    tiny_params=51_040,
    pipeline=SIMILARITY_PIPELINE,
    pipeline_kwargs={"pooling": "mean", "prefix": "query: "},
    aliases=("e5-large",),
    notes="Both sentences are prefixed 'query: ', as the model card asks for symmetric "
    "tasks such as semantic similarity.",
)

SPECS: tuple[TaskModelSpec, ...] = (
    DISTILBERT_SST2,
    BERT_LARGE_SST2,
    GPT2_MEDIUM_SST2,
    BERT_BASE_NER,
    DISTILBERT_SQUAD,
    BERT_LARGE_SQUAD2,
    DEBERTA_V3_SQUAD2,
    BERT_BASE_UNCASED,
    ROBERTA_BASE,
    BGE_SMALL,
    BGE_BASE,
    E5_LARGE,
)
