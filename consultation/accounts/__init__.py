"""Accounts: regions, organisations, users, sessions and invitations."""
