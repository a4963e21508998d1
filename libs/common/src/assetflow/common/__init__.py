"""Shared building blocks for assetflow services: settings, events, topics, clients."""
