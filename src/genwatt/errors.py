"""The exceptions a user can cause. Each message says what to do about it.

Tracebacks are for genwatt's own bugs; anything in this tree is caught by the CLI and
printed as one clear line with a non-zero exit code.
"""

from __future__ import annotations


class GenwattError(Exception):
    """Base of every error that the user (input, environment, permissions) can fix."""


class WindowError(GenwattError):
    """A measurement window was opened twice, or closed without being opened."""


class SourceUnavailableError(GenwattError):
    """An energy source cannot be used here; the message says why and how to fix it."""


class SourceReadError(GenwattError):
    """An energy source failed while a window was open (driver error, device lost)."""


class StoreError(GenwattError):
    """The results store cannot be opened or written."""


class StoreSchemaTooNewError(StoreError):
    """The store was written by a newer genwatt; refusing to touch it."""


class UnknownCountryError(GenwattError):
    """No grid carbon intensity is known for the requested country or cloud region."""


class ConfigError(GenwattError):
    """A sweep spec, a model name or a generation parameter is invalid."""


class DeviceUnavailableError(ConfigError):
    """The torch device a run asks for does not exist or cannot be used on this machine."""


class PlanTooLargeError(ConfigError):
    """A sweep would not fit: too many runs, too large a spec, or more memory than there is."""


class ConcurrentSweepError(StoreError):
    """Another process is running the same sweep into the same store."""
