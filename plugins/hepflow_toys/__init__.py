"""The ``toys`` plugin: benchmark integrands for samplers, each with its exact integral.

The standard test functions of the neural-importance-sampling and VEGAS literature (i-flow,
ZüNIS, MadNIS, Lepage's ``vegas``), defined on the unit hypercube, vectorised in torch, on any
device. Each has ``reference``, its exact integral: a closed form where one exists, otherwise a
deterministic high-precision quadrature computed here for the chosen options.
"""

from __future__ import annotations

import hepflow

from .elementary import Polynomial, Product, Sinusoidal
from .gaussians import Camel, Gaussian, Ridge
from .lattice import SchwingerModel
from .resonances import TwoResonances
from .shapes import Annulus, SlashedCircle, TwoCircles

__all__ = [
    "Annulus",
    "Camel",
    "Gaussian",
    "Polynomial",
    "Product",
    "Ridge",
    "SchwingerModel",
    "Sinusoidal",
    "SlashedCircle",
    "TwoCircles",
    "TwoResonances",
]

TOYS = {
    cls.name: cls
    for cls in (
        Gaussian,
        Camel,
        SlashedCircle,
        Sinusoidal,
        Annulus,
        TwoCircles,
        Polynomial,
        Product,
        Ridge,
        TwoResonances,
    )
}


@hepflow.hookimpl
def hepflow_integrands():
    """The toy integrands by name; each class is its own factory (its keyword options)."""
    return dict(TOYS)
