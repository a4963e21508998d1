"""devstack: installs and runs the local Kafka, MinIO and MongoDB stack without Docker."""
