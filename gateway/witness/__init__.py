"""A transparency-log witness (C2SP tlog-witness): an HTTP service that cosigns checkpoints it checked.

It knows only the note formats and the Merkle proofs (:mod:`gateway.audit.checkpoint`,
:mod:`gateway.audit.cosignature`, :mod:`gateway.audit.merkle`), never the gateway's
store: anyone — a commune, the syndicate's auditor, an outside body — can run it
apart from the gateway, with its own small SQLite file and its own key.
"""
