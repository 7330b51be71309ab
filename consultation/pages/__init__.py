"""Site-wide pages: the entry point, health check, language switch, legal pages, staff dashboard."""
