"""Small plugins the core's tests load with ``create_app(extra_plugins=...)``."""
