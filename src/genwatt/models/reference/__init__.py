"""genwatt's own trained text-to-video reference model, "wan-reference": a miniature WAN 2.1.

Mitigation strategies are judged on it (``genwatt.mitigate``), so it lives here, beside
the registry that lists it (``genwatt.models.families.reference``), and not inside
mitigation. One module per job:

* ``architecture``: the numbers, vocabulary and sampling defaults (plain data, no numpy,
  so the registry can read them);
* ``captions``: what a caption can say; ``synthetic``: the captioned clips it learns from;
* ``codec``: the exact pixel-patch codec in place of the VAE;
* ``pipeline``: the real ``WanPipeline`` built from those parts; ``checkpoint``: the
  shipped weights (``weights/``) and their training record;
* ``flow``, ``training`` and ``train``: rectified-flow helpers, the training loop, and
  the script that writes the weights (``python -m genwatt.models.reference.train``);
* ``adherence`` and ``quality_card``: whether a clip shows its caption, and the quality
  record stored with the weights.

Nothing here imports ``genwatt.mitigate``. Importing the package loads nothing; torch,
diffusers and transformers are imported by the modules and functions that use them.
"""
