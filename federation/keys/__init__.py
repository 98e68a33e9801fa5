"""The hub's signing keys: access tokens and pass QR codes are signed here, and anyone
can verify them with the published public keys (/oauth/jwks.json)."""
