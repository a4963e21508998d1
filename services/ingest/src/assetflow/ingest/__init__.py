"""ingest: normalises raw MinIO bucket notifications into assetflow object events."""
