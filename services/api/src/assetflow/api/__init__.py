"""api: cursor-paginated image listings with presigned URLs."""
