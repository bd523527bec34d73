"""``guichet worker``: the background jobs, run on schedule by any number of worker processes at once.

- :mod:`gateway.worker.slots`: the schedule's slots, their claim and the record of runs (``worker_job``,
  ``worker_run``), so that no slot is run twice and none is skipped;
- :mod:`gateway.worker.jobs`: what each job does, by calling the functions the separate commands call;
- :mod:`gateway.worker.loop`: the loop that claims due slots and runs them until asked to stop;
- :mod:`gateway.worker.status`: what ``guichet worker status`` prints.
"""
