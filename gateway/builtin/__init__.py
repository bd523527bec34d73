"""The core's default plugins: built-in behaviour registered through the public hooks."""
