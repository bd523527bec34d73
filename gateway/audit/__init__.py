"""The tamper-evident audit log: events, Merkle tree, checkpoints, verification."""
