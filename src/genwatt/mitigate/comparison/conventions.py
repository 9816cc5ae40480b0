"""The names, labels and thresholds a stored comparison is written and read with.

Why a module of its own: ``compare`` and ``record`` write comparisons, and the report
(``genwatt.report.mitigation``) reads them back without numpy, scipy or torch. Both
import these from here, so a threshold or a label cannot drift between the two. Plain
Python only.
"""

from __future__ import annotations

#: The run kind of every stored strategy of a comparison.
RUN_KIND = "mitigation"
#: The baseline row every comparison writes: the pipeline as configured.
REFERENCE_NAME = "unmitigated"
#: Identical outputs have infinite PSNR; each value is capped at this before averaging.
PSNR_CAP_DB = 100.0
#: A case counts as visually faithful to the baseline from this PSNR on.
GOOD_PSNR_DB = 30.0
#: Below this share of the baseline's denoising FLOPs saved, a strategy saved nothing.
MIN_WORK_SAVED = 0.01

#: How a result's seconds and joules were taken (the JSON ``timing`` field): in a run of
#: their own without the FLOP counter, or in the counted run itself.
SEPARATE_PASS = "separate pass (no FLOP counter)"
COUNTED_RUN = "counted run (includes FLOP counter overhead)"
#: Labels written by earlier versions, and what they mean now.
_EARLIER_LABELS = {"instrumented run (includes FLOP counter overhead)": COUNTED_RUN}


def timing_label(stored: str) -> str:
    """The current label for a stored ``timing`` label (comparisons stored before the
    counted run was named so say "instrumented run")."""
    return _EARLIER_LABELS.get(stored, stored)
