"""Cutting inference energy: the strategies ``genwatt mitigate`` offers.

Every strategy is a ``strategy.Strategy``: diffusers' step caches configured for WAN
(``caching``), genwatt's own adaptive step cache (``adaptive_cache``, with the correction
of its runs of skipped calls in ``run_correction``), reuse of earlier outputs
(``reuse``, ``reuse_store``, ``restart``, ``embedding``) and plain cheaper settings
(``baselines``). ``catalog`` names them for ``--strategies`` and ``--list``.

The harness that runs them against the unmitigated baseline and scores what the output
lost is ``genwatt.mitigate.comparison``; it imports the strategies, never the other way.
The reference model they are judged on is ``genwatt.models.reference``.

Importing this package loads nothing; each module imports what it needs (the caches need
torch and diffusers).
"""
