"""Guichet e-service: school registration (« Inscription scolaire »)."""
