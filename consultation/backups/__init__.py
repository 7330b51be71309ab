"""Consistent online backups of the database, and their restore."""
