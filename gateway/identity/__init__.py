"""Identity and access: citizens and staff, sessions, second factor, roles."""
