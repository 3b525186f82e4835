"""The multi-channel contract: an integrand split into one term per phase-space mapping.

A multi-channel integrand declares ``channels``: a sequence of :class:`Channel`, one per mapping
of [0, 1]^dim to phase space (one per resonance or propagator structure, say). It then accepts
``integrand(x, channel=c)`` with ``c`` an (n,) int64 tensor of channel indices and returns the
channel terms f_c(x) (the mapping's Jacobian times the channel weight alpha_c(p) times |M|^2 ...),
chosen so that the sum over channels of the integrals of f_c over the unit hypercube is the total.
Called without ``channel`` it is an ordinary single-mapping integrand of the total, so samplers
that know nothing of channels (VEGAS, uniform) still integrate it. ``events(x, channel=c)``
likewise maps x through channel c.

A sampler that uses channels puts the index of each point's channel into
``PointBatch.extras["channel"]``; the core then passes it on to the integrand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import HepflowError

__all__ = ["CHANNEL_KEY", "Channel", "channel_priors"]

#: the PointBatch.extras column that carries each point's channel index
CHANNEL_KEY = "channel"


@dataclass(frozen=True)
class Channel:
    """One phase-space mapping of a multi-channel integrand.

    ``prior`` is the expected share of the integral carried by this channel (any positive
    scale; samplers normalise); a multi-channel sampler starts its allocation from it.
    """

    name: str
    prior: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.prior, int | float) and math.isfinite(self.prior)) or (
            self.prior < 0
        ):
            raise HepflowError(
                f"channel {self.name!r}: prior must be a finite number >= 0, got {self.prior!r}"
            )


def channel_priors(channels: Sequence[Channel]) -> list[float]:
    """The priors normalised to sum to one (error when there is nothing to normalise)."""
    priors = [float(c.prior) for c in channels]
    total = sum(priors)
    if not channels or total <= 0:
        raise HepflowError(
            f"an integrand declared channels {[c.name for c in channels]} whose priors sum to "
            f"{total}; give at least one channel a positive prior"
        )
    return [p / total for p in priors]
