"""Guichet e-service « Écrire à la mairie »: a citizen sends a message to their town hall."""
