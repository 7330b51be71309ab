"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from consultation import create_app

app = create_app()
