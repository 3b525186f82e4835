"""The ``breit_wigner`` integrand: a Z-like resonance and its decay to two leptons.

The toy is the partonic heart of Drell-Yan, u ū → Z → μ⁻ μ⁺, in the resonance rest frame:

* the dilepton mass m follows a relativistic Breit-Wigner line shape in s = m²,

      dσ/ds = σ · (1/π) · MΓ / ((s - M²)² + M²Γ²),

  normalised so that σ is the cross section over all masses;
* the μ⁻ polar angle θ follows (3/8)(1 + cos²θ), the decay of a vector boson made from
  unpolarised fermions (the forward-backward asymmetry of the real Z is left out);
* the azimuth φ is uniform.

The unit hypercube maps linearly onto m ∈ [m_min, m_max], cos θ ∈ [-1, 1] and φ ∈ [0, 2π), with
every Jacobian inside ``__call__``, so the integral over [0, 1]^dim is the cross section in the
mass window, known exactly:

    σ_window = σ/π · [atan((m_max² - M²)/(MΓ)) - atan((m_min² - M²)/(MΓ))].

The angular densities integrate to one, so ``dim`` (1: mass only, 2: + cos θ, 3: + φ) changes
how much of the event the sampler sees, not the integral. The linear map leaves the resonance
peak in f; a sampler that adapts (VEGAS, a flow) learns to flatten it, which makes this a small
yardstick for importance sampling.
"""

from __future__ import annotations

import math

import hepflow
import torch

__all__ = ["BreitWigner"]

# u, ū, Z, μ⁻, μ⁺ in PDG numbering; LHE status (-1 incoming, 2 intermediate, 1 outgoing);
# mothers are 1-based positions within the event; one colour line joins the two quarks.
_PDG_ID = (2, -2, 23, 13, -13)
_STATUS = (-1, -1, 2, 1, 1)
_MOTHERS = ((0, 0), (0, 0), (1, 2), (3, 3), (3, 3))
_COLOR = ((501, 0), (0, 501), (0, 0), (0, 0), (0, 0))


class BreitWigner:
    """Z-like resonance u ū → Z → μ⁻ μ⁺: Breit-Wigner mass, (1 + cos²θ) decay; exact integral.

    Options: ``mass`` and ``width`` of the resonance in GeV; the mass window ``m_min`` to
    ``m_max`` in GeV; ``sigma``, the cross section over all masses in pb; ``dim`` 1 (mass),
    2 (+ decay angle cos θ) or 3 (+ azimuth φ).
    """

    unit = "pb"

    def __init__(
        self,
        mass: float = 91.1876,
        width: float = 2.4952,
        m_min: float = 60.0,
        m_max: float = 120.0,
        sigma: float = 1.0,
        dim: int = 3,
    ) -> None:
        # ValueError is what create() turns into a ComponentError naming this component.
        if not (mass > 0 and width > 0):
            raise ValueError(f"mass and width must be positive GeV, got {mass=} and {width=}")
        if not 0 <= m_min < m_max:
            raise ValueError(f"need 0 <= m_min < m_max (GeV), got {m_min=} and {m_max=}")
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive cross section in pb, got {sigma=}")
        if dim not in (1, 2, 3):
            raise ValueError(f"dim must be 1 (mass), 2 (+ cos θ) or 3 (+ φ), got {dim=}")
        self.mass, self.width = float(mass), float(width)
        self.m_min, self.m_max = float(m_min), float(m_max)
        self.sigma = float(sigma)
        self.dim = dim

        def arctan(m: float) -> float:
            return math.atan((m * m - self.mass**2) / (self.mass * self.width))

        self.reference = self.sigma / math.pi * (arctan(self.m_max) - arctan(self.m_min))

    def __repr__(self) -> str:
        return (
            f"BreitWigner(mass={self.mass}, width={self.width}, m_min={self.m_min}, "
            f"m_max={self.m_max}, sigma={self.sigma}, dim={self.dim})"
        )

    # -- the map from the unit hypercube ----------------------------------------------------
    def _variables(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(m, cos θ, φ) at points x; missing coordinates fix θ = 0 (dim 1) and φ = 0 (dim < 3)."""
        m = self.m_min + x[:, 0] * (self.m_max - self.m_min)
        cos_theta = 2 * x[:, 1] - 1 if self.dim >= 2 else torch.ones_like(m)
        phi = 2 * math.pi * x[:, 2] if self.dim >= 3 else torch.zeros_like(m)
        return m, cos_theta, phi

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """dσ at points x of shape (n, dim), Jacobians included: (n,) values in pb."""
        m, cos_theta, _ = self._variables(x)
        mw = self.mass * self.width
        line_shape = mw / math.pi / ((m * m - self.mass**2) ** 2 + mw**2)  # per unit s
        f = self.sigma * line_shape * 2 * m * (self.m_max - self.m_min)  # ds/dx0 = 2m·Δm
        if self.dim >= 2:
            f = f * (3 / 8) * (1 + cos_theta**2) * 2  # dcos θ/dx1 = 2
        return f  # φ: density 1/2π times dφ/dx2 = 2π

    # -- events -----------------------------------------------------------------------------
    def events(self, x: torch.Tensor) -> hepflow.EventBatch:
        """The events at points x: u ū → Z → μ⁻ μ⁺ in the Z rest frame, leptons massless.

        Each event lists u (along +z) and ū (along -z) with energy m/2 each, the Z at rest with
        mass m, and the back-to-back leptons of energy m/2; four-momentum is conserved at both
        vertices. The event weight is f(x), the weight for uniform sampling; the pipeline sets
        the final weights (after unweighting) with ``EventBatch.with_weights``.
        """
        m, cos_theta, phi = self._variables(x)
        sin_theta = torch.sqrt(torch.clamp(1 - cos_theta**2, min=0))
        half = m / 2
        zero = torch.zeros_like(m)
        lepton = torch.stack(  # μ⁻ four-momentum; the μ⁺ has the opposite three-momentum
            [
                half,
                half * sin_theta * torch.cos(phi),
                half * sin_theta * torch.sin(phi),
                half * cos_theta,
            ],
            dim=-1,
        )
        antilepton = torch.cat([lepton[:, :1], -lepton[:, 1:]], dim=-1)
        momentum = torch.stack(
            [
                torch.stack([half, zero, zero, half], dim=-1),  # u
                torch.stack([half, zero, zero, -half], dim=-1),  # ū
                torch.stack([m, zero, zero, zero], dim=-1),  # Z at rest
                lepton,
                antilepton,
            ],
            dim=1,
        )  # (n, 5, 4)

        return hepflow.EventBatch.from_regular(  # per-particle columns shared by every event
            pdg_id=torch.tensor(_PDG_ID, device=x.device),
            status=torch.tensor(_STATUS, device=x.device),
            mothers=torch.tensor(_MOTHERS, device=x.device),
            color=torch.tensor(_COLOR, device=x.device),
            momentum=momentum,
            weight=self(x).to(torch.float64),
            mass=torch.stack([zero, zero, m, zero, zero], dim=-1),
            extras={"scale": m},  # the factorisation/renormalisation scale: the Z mass
        )
