"""Settings come from the environment; production refuses development secrets."""

import pytest

from assetflow.api.settings import ApiSettings
from assetflow.common.errors import ConfigError
from assetflow.indexer.settings import IndexerSettings


def test_env_overrides_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGO_URL", "mongodb://db.example:27017")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("INDEXER_BATCH_MAX_RECORDS", "250")
    settings = IndexerSettings()
    assert settings.mongo.url == "mongodb://db.example:27017"
    assert settings.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.indexer.batch_max_records == 250
    assert settings.kafka.group_id("indexer") == "assetflow.indexer"


def test_production_refuses_dev_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "production")
    with pytest.raises(ConfigError, match="S3_SECRET_KEY"):
        ApiSettings()
    monkeypatch.setenv("S3_SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("API_CURSOR_SECRET", "another-real-secret")
    assert ApiSettings().api.cursor_secret.get_secret_value() == "another-real-secret"
