"""The harness of ``genwatt mitigate``: strategies against the unmitigated baseline.

``compare`` runs the baseline and every strategy on the same prompts and seeds, counting
the denoising FLOPs each executes (``work``) and timing them apart from that count
(``timing``); ``quality`` scores each output against the baseline's, and the reference
model's adherence check (``genwatt.models.reference.adherence``) whether it still shows
its caption. ``subject`` loads what is compared, ``size`` says up front how long it will
take, ``quiet`` silences diffusers meanwhile, and ``record`` stores the result for
``genwatt report``. ``conventions`` holds the names and thresholds that the stored
comparisons are written and read with (light, so the report imports it).

It depends on the strategies (``genwatt.mitigate``); they never depend on it. Importing
this package loads nothing.
"""
