"""A small reader for SLHA parameter cards (MadGraph's param_card.dat): BLOCK and DECAY.

Only what a tree-level matrix element needs: numeric block entries keyed by their integer
indices, and total widths with branching ratios. Comments (#) are dropped; block and entry
names are case-insensitive (stored upper-case). Malformed input raises SLHAError naming the
source and the line, so a bad card is fixed at once instead of giving a wrong cross section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HepflowError

__all__ = ["SLHA", "SLHAError", "parse_slha", "read_slha"]


class SLHAError(HepflowError, ValueError):
    """A parameter card that cannot be read; the message names the file and the line."""


@dataclass
class SLHA:
    """Parsed card: ``blocks[NAME][key] -> float`` (key an int, or a tuple of ints for
    matrices), ``block_scale[NAME]`` (the Q= value, where given), ``widths[pdg] -> float`` and
    ``decays[pdg] -> [(br, (daughter pdgs...)), ...]``."""

    blocks: dict[str, dict[int | tuple[int, ...], float]] = field(default_factory=dict)
    block_scale: dict[str, float] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)
    decays: dict[int, list[tuple[float, tuple[int, ...]]]] = field(default_factory=dict)
    source: str = "<string>"

    def value(self, block: str, key: int | tuple[int, ...]) -> float:
        """One entry; a missing block or key is an SLHAError naming both and the source."""
        name = block.upper()
        if name not in self.blocks:
            raise SLHAError(f"{self.source}: no BLOCK {name} (blocks: {sorted(self.blocks)})")
        entries = self.blocks[name]
        if key not in entries:
            raise SLHAError(f"{self.source}: BLOCK {name} has no entry {key!r}")
        return entries[key]

    def width(self, pdg: int) -> float:
        if pdg not in self.widths:
            raise SLHAError(f"{self.source}: no DECAY line for PDG id {pdg}")
        return self.widths[pdg]


def _number(token: str, what: str, where: str) -> float:
    try:
        return float(token.replace("d", "e").replace("D", "E"))
    except ValueError:
        raise SLHAError(f"{where}: {what} {token!r} is not a number") from None


def _integer(token: str, what: str, where: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise SLHAError(f"{where}: {what} {token!r} is not an integer") from None


def parse_slha(text: str, source: str = "<string>") -> SLHA:
    """Parse card text; ``source`` (a file name) appears in every error message."""
    card = SLHA(source=source)
    block: str | None = None
    decay: int | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        where = f"{source}, line {lineno}"
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = line.split()
        head = tokens[0].upper()
        if head == "BLOCK":
            if len(tokens) < 2:
                raise SLHAError(f"{where}: BLOCK without a name: {raw.strip()!r}")
            block, decay = tokens[1].upper(), None
            if block in card.blocks:
                raise SLHAError(f"{where}: BLOCK {block} appears twice")
            card.blocks[block] = {}
            rest = [t.upper() for t in tokens[2:]]
            if rest and rest[0].startswith("Q="):
                scale = rest[0][2:] or (rest[1] if len(rest) > 1 else "")
                card.block_scale[block] = _number(scale, "block scale Q", where)
            continue
        if head == "DECAY":
            if len(tokens) < 3:
                raise SLHAError(f"{where}: DECAY needs a PDG id and a width: {raw.strip()!r}")
            decay, block = _integer(tokens[1], "PDG id", where), None
            card.widths[decay] = _number(tokens[2], "width", where)
            card.decays[decay] = []
            continue
        try:
            float(tokens[0].replace("d", "e").replace("D", "E"))
        except ValueError:
            # every entry starts with a number; a word here is a typo such as 'BLOK'
            raise SLHAError(
                f"{where}: expected BLOCK, DECAY or a numeric entry, got {raw.strip()!r}"
            ) from None
        if block is not None:
            if len(tokens) < 2:
                raise SLHAError(f"{where}: entry of BLOCK {block} needs index and value")
            keys = tuple(_integer(t, f"index in BLOCK {block}", where) for t in tokens[:-1])
            value = _number(tokens[-1], f"value in BLOCK {block}", where)
            card.blocks[block][keys[0] if len(keys) == 1 else keys] = value
        elif decay is not None:
            if len(tokens) < 3:
                raise SLHAError(f"{where}: decay channel needs BR, NDA and daughters")
            br = _number(tokens[0], "branching ratio", where)
            nda = _integer(tokens[1], "number of daughters", where)
            daughters = tuple(_integer(t, "daughter PDG id", where) for t in tokens[2:])
            if len(daughters) != nda:
                raise SLHAError(f"{where}: NDA = {nda} but {len(daughters)} daughters listed")
            card.decays[decay].append((br, daughters))
        else:
            raise SLHAError(f"{where}: entry outside any BLOCK or DECAY: {raw.strip()!r}")
    return card


def read_slha(path: str | Path) -> SLHA:
    """Read a card from a file; errors name the path and the line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SLHAError(f"cannot read parameter card {path}: {exc.strerror}") from None
    return parse_slha(text, source=str(path))
