"""Guichet e-service « Demande d'acte d'état civil »: copies and extracts of birth, marriage and death records."""
