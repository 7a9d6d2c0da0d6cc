"""System CPU and memory use at a glance (the status bar's numbers)."""

from __future__ import annotations

import psutil


def system_load() -> tuple[float, float]:
    """(CPU % since the previous call, memory %)."""
    return float(psutil.cpu_percent(interval=None)), float(psutil.virtual_memory().percent)
