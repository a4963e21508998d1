"""API models: the HTTP contract, one module per feature (kept apart from event schemas).

They import only the shared contracts and read models, and each other; services and routes
import them.
"""
