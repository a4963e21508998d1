"""notifier: signed webhook deliveries built from the pipeline's facts on Kafka."""
