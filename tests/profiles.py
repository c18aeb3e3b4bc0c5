"""Hypothesis profiles, and :func:`examples`, the example counts that scale with them.

Every profile but ``random`` and ``thorough`` is derandomized: a run draws the same examples
as the last one (and as CI), so a mutant is caught in every run or in none, never by luck.

* ``dev`` (the default) and ``ci`` (loaded when ``CI`` is set): 25 examples, derandomized;
* ``random``: 25 fresh examples each run, to look for new failures (keep what it finds with
  ``@example``);
* ``thorough``: ten times the examples, fresh each run, before a release (minutes);
* ``mutation``: ``dev``'s examples without shrinking a failure (benchmarks/mutation.py: a
  killed mutant is told by its first failing example, and shrinking it would only cost time).

Pick one with ``HYPOTHESIS_PROFILE=thorough python -m pytest``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

BASE_EXAMPLES = 25  # the examples of the everyday profiles; others scale examples() by theirs

_COMMON = {"deadline": None,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=BASE_EXAMPLES, derandomize=True, print_blob=True,
                          **_COMMON)
settings.register_profile("dev", max_examples=BASE_EXAMPLES, derandomize=True, **_COMMON)
settings.register_profile("random", max_examples=BASE_EXAMPLES, derandomize=False, **_COMMON)
settings.register_profile("mutation", max_examples=BASE_EXAMPLES, derandomize=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
settings.register_profile("thorough", max_examples=10 * BASE_EXAMPLES, derandomize=False,
                          **_COMMON)


def load() -> str:
    """Load ``ci`` when ``CI`` is set, else ``HYPOTHESIS_PROFILE`` (default ``dev``)."""
    name = "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev")
    settings.load_profile(name)
    return name


def examples(n: int) -> int:
    """``n`` examples under the everyday profiles, scaled by the loaded profile's count
    (``thorough``: 10 n). For tests that are slow per example (a full gradcheck of a conv):
    ``@settings(max_examples=examples(10))``, where a bare ``max_examples=10`` would override
    every profile and stay 10 under ``thorough`` too."""
    return max(1, round(n * settings.default.max_examples / BASE_EXAMPLES))
