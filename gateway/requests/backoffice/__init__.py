"""The agents' side of requests, in two halves: :mod:`.queries` reads (queue, case file, exports, downloads),
:mod:`.commands` changes (transitions, assignment, notes, messages, asking the citizen, counter filing).

Both check the caller's grant for *this* commune and *this* service before
anything else and record refusals in the audit log (:mod:`.access`).
"""
