"""Sign-in and OAuth 2.0: accounts, clients, the authorization server, bearer tokens."""
