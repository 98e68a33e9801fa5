"""Uses of the spaces: pseudonymous memberships synced from spaces, and every use of a
desk, office or meeting room, whether from a network check-in or a space's own records.

Statistics read only from here (and its rollups); check-ins and sync write through here.
"""
