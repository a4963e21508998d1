"""Platform: consuming and producing on Kafka, dead letters, settings, logs, metrics, tracing
and consumer lag. Imports only the contracts."""
