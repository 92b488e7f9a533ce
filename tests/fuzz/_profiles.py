"""Hypothesis profiles of the differential fuzz.

``ci`` (the default) runs in the test command: a few hundred examples, derandomized
(the same examples on every run, so CI is repeatable), no example database, no
deadline (two shared cores make timings noisy). ``long`` is the soak run behind
``make fuzz``: 10,000 examples from a random seed. ``WECOM_FUZZ_PROFILE`` picks
one, ``WECOM_FUZZ_EXAMPLES`` overrides the number of examples, ``WECOM_FUZZ_SHRINK=0``
reports the first failure without shrinking it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
PROFILES = {
    "ci": settings(max_examples=200, derandomize=True, **_COMMON),
    "long": settings(
        max_examples=10_000,
        phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
        **_COMMON,
    ),
}


def active() -> settings:
    profile = PROFILES[os.environ.get("WECOM_FUZZ_PROFILE", "ci")]
    examples = os.environ.get("WECOM_FUZZ_EXAMPLES")
    if examples:
        profile = settings(profile, max_examples=int(examples))
    if os.environ.get("WECOM_FUZZ_SHRINK") == "0":  # while fixing: the first failure, unshrunk
        profile = settings(profile, phases=[Phase.explicit, Phase.generate])
    return profile
