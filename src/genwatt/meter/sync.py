"""Wait for queued accelerator work before a window boundary is read.

CUDA kernels run asynchronously: without a synchronise, a step's kernels would be
billed to whatever window is open when they finally execute. torch is consulted only
if the workload already imported it, and CUDA is never initialised by genwatt itself.
"""

from __future__ import annotations

import sys


def synchronize_accelerators() -> None:
    torch = sys.modules.get("torch")
    if torch is None:
        return
    cuda = getattr(torch, "cuda", None)
    if cuda is None or not cuda.is_initialized():
        return
    for index in range(cuda.device_count()):
        cuda.synchronize(index)
