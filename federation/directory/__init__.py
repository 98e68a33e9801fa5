"""The shared directory: spaces, their plans and amenities, and people who chose to be listed."""
