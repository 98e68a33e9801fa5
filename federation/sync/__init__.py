"""Site sync: spaces push their own records (profile, events, memberships, usage, bookings)
to the hub in batches; the hub mirrors them and keeps a run per batch."""
