"""How hard the bounded fuzz tests push: ``YIMA_FUZZ_SCALE`` multiplies their example counts.

``make test`` runs them at 1 (a few seconds each); the nightly run (``make fuzz-nightly``) at 50."""
import os

SCALE = max(1, int(os.environ.get("YIMA_FUZZ_SCALE", "1") or 1))


def examples(count):
    return count * SCALE
