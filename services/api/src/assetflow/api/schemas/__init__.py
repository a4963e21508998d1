"""API models: the HTTP contract, one module per feature (kept apart from event schemas).

They import only ``assetflow.common`` and each other; services and routes import them.
"""
