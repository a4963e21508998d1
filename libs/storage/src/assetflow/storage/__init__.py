"""Object storage: the S3 client factories, our SigV4 presigner and request timings. Imports
only the platform."""
