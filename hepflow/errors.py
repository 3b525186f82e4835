"""Exceptions hepflow raises. Every message names the input, the bad value and the fix."""

from __future__ import annotations

__all__ = [
    "CardError",
    "ComponentError",
    "HepflowError",
    "IntegrandError",
    "OutputExistsError",
    "PluginError",
]


class HepflowError(Exception):
    """Base class: a problem with the user's input or set-up, reported without a traceback
    by the command line."""


class PluginError(HepflowError):
    """A plugin could not be loaded, validated or registered."""


class ComponentError(HepflowError):
    """An unknown component name, or an option the component does not take."""


class CardError(HepflowError):
    """A run card that is not valid TOML or breaks the schema."""


class IntegrandError(HepflowError):
    """An integrand returned values that cannot be integrated (NaN, inf, wrong shape, all 0)."""


class OutputExistsError(HepflowError):
    """An output file exists and the user did not ask to overwrite it."""
