"""indexer: keeps the image index in MongoDB in step with object events."""
