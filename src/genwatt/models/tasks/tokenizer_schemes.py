"""The special tokens and framing of each tokenizer family the suite's models use.

Ids are those of the real vocabularies (the ``tokenizer.json`` or ``vocab.txt`` of the
repo cited beside each), so that a real-size model with random weights sees the ids
its config names; the tiny forms renumber them (``TokenizerScheme.compact``).
"""

from __future__ import annotations

from genwatt.models.tasks.spec import TokenizerScheme

# vocab.txt of google-bert/bert-base-uncased (and every BERT/DistilBERT/BGE/E5
# checkpoint derived from it): [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103.
BERT = TokenizerScheme(
    "bert",
    {
        "pad": ("[PAD]", 0),
        "unk": ("[UNK]", 100),
        "cls": ("[CLS]", 101),
        "sep": ("[SEP]", 102),
        "mask": ("[MASK]", 103),
    },
    single="{cls} $A {sep}",
    pair="{cls} $A {sep} $B:1 {sep}:1",
    model_max_length=512,
    lowercase=True,
)
