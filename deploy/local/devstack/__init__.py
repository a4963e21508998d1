"""devstack: installs and runs the local Kafka, MinIO and secantusd-rs stack without Docker."""
