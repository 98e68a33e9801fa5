"""The adapter kit: what a space runs to sync its own tools with the hub.

It talks to the hub over HTTP only and never imports `federation`, so a space installs
just this package.
"""
