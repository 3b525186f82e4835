"""Reader for LHAPDF ``.info`` metadata: the flat YAML subset LHAPDF writes.

A hand-written parser (keys, scalars, ``[a, b]`` lists, ``#`` comments) so that the package
needs no YAML library; anything outside that subset is reported with its file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .errors import PDFFormatError

__all__ = ["parse_info", "read_info"]

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


def _strip_comment(text: str) -> str:
    """Drop a ``#`` comment that is not inside quotes."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return text[:i]
    return text


def _scalar(token: str) -> Any:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    low = token.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("null", "~", ""):
        return None
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return token


def _split_list(body: str) -> list[str]:
    """Split the inside of ``[...]`` on commas outside quotes."""
    items, quote, current = [], None, []
    for ch in body:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        items.append("".join(current))
    return items


def parse_info(text: str, source: str = "<info>") -> dict[str, Any]:
    """Parse ``.info`` text into a dict; ``source`` names the file in error messages."""
    out: dict[str, Any] = {}
    last = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = _strip_comment(lines[i]).rstrip()
        i += 1
        if not line.strip() or line.strip() == "---":
            continue
        m = _KEY.match(line.strip())
        if m is None and line[:1].isspace() and isinstance(out.get(last), str):
            out[last] += " " + line.strip()  # an indented plain scalar continued (YAML folding)
            continue
        if m is None:
            raise PDFFormatError(
                f"{source}:{lineno}: expected 'Key: value', got {lines[lineno - 1]!r}; "
                "fix or re-download the set"
            )
        key, value = m.group(1), m.group(2).strip()
        last = key
        if value.startswith("["):
            while "]" not in value:  # a flow list continued on the next lines
                if i >= len(lines):
                    raise PDFFormatError(
                        f"{source}:{lineno}: list for {key!r} is not closed with ']'"
                    )
                more = _strip_comment(lines[i]).strip()
                if _KEY.match(more):
                    raise PDFFormatError(
                        f"{source}:{lineno}: list for {key!r} is not closed with ']'"
                    )
                value += " " + more
                i += 1
            if not value.endswith("]"):
                raise PDFFormatError(f"{source}:{lineno}: text after ']' in {key!r}")
            out[key] = [_scalar(t) for t in _split_list(value[1:-1])]
        else:
            out[key] = _scalar(value)
    return out


def read_info(path: str | Path) -> dict[str, Any]:
    """Read and parse one ``.info`` file."""
    path = Path(path)
    return parse_info(path.read_text(), str(path))
