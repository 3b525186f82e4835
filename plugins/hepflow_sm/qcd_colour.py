"""SU(3) colour bookkeeping for the QCD 2 -> 2 processes: colour bases, colour matrices and the
LHE colour tags of each basis element.

Bases (MadGraph's, so that a colour-ordered amplitude JAMP_i is one large-N colour flow):

- four gluons: the six single traces Tr(T^a1 T^a_i T^a_j T^a_k), ``GLUON_TRACES``; the
  colour factor f^{abe} f^{cde} of a gluon exchange is expanded into them by ``ff_traces``
  (f^{abc} = -2 i Tr([T^a, T^b] T^c), so f^{abe} f^{cde} = -2 Tr([T^a, T^b] [T^c, T^d]));
- a quark line with two gluons: (T^a T^b)_{ij} and (T^b T^a)_{ij};
- two quark lines: delta_{i l} delta_{k j} (colour exchanged) and delta_{i j} delta_{k l}, from
  the Fierz identity T^c_{ij} T^c_{kl} = (delta_il delta_kj - delta_ij delta_kl / 3) / 2.

The colour matrices CF_ij = sum over colours of c_i^* c_j are written out (MadGraph's values);
the tests derive them again from explicit Gell-Mann matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations

__all__ = [
    "GLUON_TRACES",
    "GLUON_TRACE_MATRIX",
    "QUARK_LINE_MATRIX",
    "TWO_LINE_MATRIX",
    "canonical_trace",
    "ff_traces",
    "lhe_colours",
]

#: The single traces of four gluons (legs 1..4), leg 1 first; MadGraph's order.
GLUON_TRACES: tuple[tuple[int, ...], ...] = tuple((1, *p) for p in permutations((2, 3, 4)))

#: sum_colours Tr_i^* Tr_j for ``GLUON_TRACES`` (T = lambda / 2): (19, -2, ..., 4) / 6.
GLUON_TRACE_MATRIX: tuple[tuple[float, ...], ...] = tuple(
    tuple(v / 6 for v in row)
    for row in (
        (19, -2, -2, -2, -2, 4),
        (-2, 19, -2, 4, -2, -2),
        (-2, -2, 19, -2, 4, -2),
        (-2, 4, -2, 19, -2, -2),
        (-2, -2, 4, -2, 19, -2),
        (4, -2, -2, -2, -2, 19),
    )
)

#: sum_colours for the basis (T^a T^b)_ij, (T^b T^a)_ij: N C_F^2 = 16/3 and -C_F / 2 = -2/3.
QUARK_LINE_MATRIX: tuple[tuple[float, ...], ...] = ((16 / 3, -2 / 3), (-2 / 3, 16 / 3))

#: sum_colours for the basis of two quark lines: N^2 = 9 on the diagonal, N = 3 off it.
TWO_LINE_MATRIX: tuple[tuple[float, ...], ...] = ((9.0, 3.0), (3.0, 9.0))


def canonical_trace(order: Sequence[int]) -> tuple[int, ...]:
    """The cyclic rotation of a trace's leg order that starts with its smallest leg."""
    k = list(order).index(min(order))
    return tuple(order[k:]) + tuple(order[:k])


def ff_traces(a: int, b: int, c: int, d: int) -> dict[tuple[int, ...], float]:
    """f^{a b e} f^{c d e} as {trace order: coefficient} over the single traces:
    -2 [Tr(abcd) - Tr(abdc) - Tr(bacd) + Tr(badc)]."""
    terms = {(a, b, c, d): -2.0, (a, b, d, c): 2.0, (b, a, c, d): 2.0, (b, a, d, c): -2.0}
    out: dict[tuple[int, ...], float] = {}
    for order, coef in terms.items():
        key = canonical_trace(order)
        out[key] = out.get(key, 0.0) + coef
    return out


def lhe_colours(
    chains: Sequence[tuple[Sequence[int], bool]], n_incoming: int = 2, n_legs: int = 4
) -> list[tuple[int, int]]:
    """LHE (ICOLUP) colour tags of one colour-flow basis element.

    ``chains``: (legs, closed) for each colour line, legs 0-based. An open chain
    (fo, g..., fi) is the matrix element (T^g ... )_{fo fi} of a quark line: fo is the leg
    whose wave function is an oxxxxx (outgoing quark or incoming antiquark), fi the ixxxxx
    leg; a closed chain is a trace of gluons. Counting every leg as outgoing, (T^g)_{xy}
    gives gluon g colour y and anticolour x; incoming legs then swap colour and anticolour
    (an incoming colour is an outgoing anticolour). Tags start at 501, as MadGraph's do.
    """
    out = [[0, 0] for _ in range(n_legs)]  # (colour, anticolour), all counted outgoing
    tag = 500
    for legs, closed in chains:
        legs = list(legs)
        if closed:
            first = tag + 1
            for k, leg in enumerate(legs):
                out[leg][1] = tag + 1 + k
                out[leg][0] = tag + 2 + k if k + 1 < len(legs) else first
            tag += len(legs)
        else:
            out[legs[0]][0] = tag + 1
            for k, leg in enumerate(legs[1:-1], start=1):
                out[leg][1] = tag + k
                out[leg][0] = tag + k + 1
            out[legs[-1]][1] = tag + len(legs) - 1
            tag += len(legs) - 1
    return [(a, c) if i < n_incoming else (c, a) for i, (c, a) in enumerate(out)]
