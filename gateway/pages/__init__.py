"""HTML handlers: the pages residents, agents and auditors see. Never imports ``gateway.api``."""
