"""Shared pieces used by every domain package: models, permissions, errors, mail, jobs, audit."""
