"""Consultations, their phases and planned dates, and their themes."""
