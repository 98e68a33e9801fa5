"""The shared GraphQL toolkit: request context and loaders, error codes, Relay connections."""
