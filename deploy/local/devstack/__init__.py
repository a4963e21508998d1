"""devstack: installs and runs the local Kafka, MinIO and FerretDB stack without Docker."""
