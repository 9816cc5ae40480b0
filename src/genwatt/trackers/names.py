"""The metric and tag names genwatt logs to experiment trackers, written once.

Names are stable (dashboards and queries depend on them) and hold only what both MLflow
and W&B accept everywhere: letters, digits, ``_``, ``-`` and ``.``. A window or domain
name with anything else (``step:3``, ``gpu:0``) has each such character replaced by
``_`` (``step_3``, ``gpu_0``).

- ``genwatt.energy_j.<window>``: the window's energy over every domain, in joules;
  ``genwatt.energy_j.<window>.<phase>`` each phase of a generation (``genwatt.instrument``);
- ``genwatt.domain_energy_j.<window>.<domain>``: the window's energy on one domain;
- ``genwatt.co2e_g.<window>`` (and ``.<phase>``): grams of CO2e on the carbon setting
  genwatt resolves (``--country``/``$GENWATT_COUNTRY``, ``$GENWATT_PUE``);
- ``genwatt.duration_s.<window>`` (and ``.<phase>``): seconds;
- tags ``genwatt.provenance.<window>`` (and ``.<phase>``): the weakest provenance of the
  figure (``measured``, ``estimated``); ``genwatt.provenance.<window>.domains`` each
  domain's; ``genwatt.errors.<window>`` the domains with no figure and why;
  ``genwatt.carbon`` the grid and PUE the CO2e was computed on.
"""

from __future__ import annotations

import re

PREFIX = "genwatt"
ENERGY = f"{PREFIX}.energy_j"
DOMAIN_ENERGY = f"{PREFIX}.domain_energy_j"
CO2E = f"{PREFIX}.co2e_g"
DURATION = f"{PREFIX}.duration_s"
PROVENANCE = f"{PREFIX}.provenance"
ERRORS = f"{PREFIX}.errors"
CARBON = f"{PREFIX}.carbon"
CO2E_ERROR = f"{PREFIX}.co2e_error"

# MLflow refuses keys longer than 250 characters and tag values longer than 8000; W&B
# has no lower limits. Each part of a name is cut on its own, so that a kind and two
# parts always fit and two names differing after a long window name never merge.
MAX_NAME_LENGTH = 250
MAX_PART_LENGTH = 100
MAX_TAG_LENGTH = 5000
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def safe(part: str) -> str:
    """``part`` with every character outside letters, digits, ``_ - .`` made ``_``, cut
    to ``MAX_PART_LENGTH`` characters."""
    return _UNSAFE.sub("_", part)[:MAX_PART_LENGTH] or "_"


def metric_name(kind: str, *parts: str) -> str:
    """``kind`` followed by each sanitised part, dot-separated."""
    return ".".join([kind, *(safe(p) for p in parts)])[:MAX_NAME_LENGTH]


def tag_value(text: str) -> str:
    """``text`` cut to a length every tracker stores, marked when cut."""
    if len(text) <= MAX_TAG_LENGTH:
        return text
    return text[: MAX_TAG_LENGTH - 14] + " ... (cut)"
