"""Getting the metrics to Prometheus: an HTTP endpoint, or the node exporter's textfile.

- ``serve_http``: prometheus_client's own HTTP server in a daemon thread, on loopback
  unless told otherwise (``addr="0.0.0.0"`` to let other machines scrape it). Port 0
  picks a free port; ``MetricsServer.port`` says which.
- ``write_textfile``: the whole registry in the text format, written to a temporary
  file beside ``path`` and renamed over it, so the node exporter's textfile collector
  never reads half a file. The collector reads only ``*.prom`` files.
- ``TextfileWriter``: ``write_textfile`` every ``every_s`` seconds in a thread, and once
  more when stopped, so the file ends with the last figures.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError

if TYPE_CHECKING:
    from genwatt.metrics.energy_metrics import EnergyMetrics

_log = logging.getLogger(__name__)


class MetricsServer:
    """A running exposition endpoint: ``url``, ``port``, and ``shutdown``."""

    def __init__(self, server: Any, thread: threading.Thread, addr: str) -> None:
        self._server = server
        self._thread = thread
        self.addr = addr
        self.port: int = server.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def shutdown(self) -> None:
        """Stop serving and free the port; waits for the server thread to end."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve_http(metrics: EnergyMetrics, port: int, addr: str = "127.0.0.1") -> MetricsServer:
    """Serve ``metrics``' registry at ``http://addr:port/metrics`` until ``shutdown``.

    Raises:
        ConfigError: the port is out of range or cannot be bound (in use, privileged).
    """
    from prometheus_client import start_http_server

    if not 0 <= port <= 65535:
        raise ConfigError(f"port must be 0 to 65535 (0: any free port), got {port}")
    try:
        server, thread = start_http_server(port, addr=addr, registry=metrics.registry)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on {addr}:{port}: {exc.strerror or exc}; choose another "
            "--port (0 picks a free one)"
        ) from None
    return MetricsServer(server, thread, addr)


def write_textfile(metrics: EnergyMetrics, path: str | Path) -> Path:
    """Write ``metrics``' registry to ``path`` atomically; returns the path.

    Raises:
        ConfigError: ``path`` does not end in ``.prom`` (the textfile collector would
            ignore it) or its folder does not exist.
    """
    from prometheus_client import write_to_textfile

    target = Path(path)
    if target.suffix != ".prom":
        raise ConfigError(
            f"{target}: the node exporter's textfile collector reads only *.prom files; "
            "name the file e.g. genwatt.prom"
        )
    if not target.parent.is_dir():
        raise ConfigError(f"{target.parent}: no such folder for the metrics textfile")
    write_to_textfile(str(target), metrics.registry)
    return target


class TextfileWriter:
    """Rewrites a textfile every ``every_s`` seconds until ``stop`` (a context manager).

    A write that fails (disk full) is logged once and retried at the next tick; ``stop``
    writes a last time and raises if that write fails, so the caller learns the file is
    stale.
    """

    def __init__(self, metrics: EnergyMetrics, path: str | Path, every_s: float) -> None:
        if not math.isfinite(every_s) or every_s <= 0:
            raise ConfigError(f"the textfile interval must be > 0 seconds, got {every_s!r}")
        self.metrics = metrics
        self.path = write_textfile(metrics, path)  # checks the path, and writes at once
        self.every_s = every_s
        self.writes = 1
        self._stop = threading.Event()
        self._failed = False
        self._thread = threading.Thread(target=self._loop, name="genwatt-textfile", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                write_textfile(self.metrics, self.path)
                self.writes += 1
            except Exception:
                if not self._failed:
                    self._failed = True
                    _log.warning("genwatt: writing %s failed; retrying", self.path, exc_info=True)

    def stop(self) -> None:
        """Stop the thread, then write the file one last time."""
        self._stop.set()
        self._thread.join()
        write_textfile(self.metrics, self.path)
        self.writes += 1

    def __enter__(self) -> TextfileWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.stop()
            return
        with contextlib.suppress(Exception):  # the body's own error is the one to see
            self.stop()
