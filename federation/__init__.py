"""The hub of the Collectif des Tiers-Lieux."""

__version__ = "0.1.0"
