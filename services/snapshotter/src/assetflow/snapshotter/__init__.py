"""snapshotter: versioned, zipped dataset snapshots streamed to storage."""
