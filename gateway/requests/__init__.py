"""Requests: the store, the object plugins see, form checks, the filing transaction."""
