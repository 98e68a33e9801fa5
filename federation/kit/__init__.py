"""Neutral helpers every domain may use. Nothing here knows a domain."""
