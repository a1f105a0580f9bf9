"""Hypothesis profiles: `dev` (quick, the default), `ci` (what `bash dev.sh test` selects when
CI is set: more examples, derandomized so a run is reproducible), `thorough` (for a long
look: HYPOTHESIS_PROFILE=thorough bash dev.sh test)."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile(
    "ci", max_examples=120, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
