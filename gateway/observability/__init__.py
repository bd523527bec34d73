"""What operators watch: structured logs carrying a request id, and Prometheus metrics.

Low in the floors (next to :mod:`gateway.settings`) so that any layer may count
what it does — the writer's batches, the throttles' lock-outs, a plugin's
failure — without knowing how the numbers are exported. The HTTP side (the
access-log middleware, the ``/metrics`` route) lives in :mod:`gateway.web`.
"""
