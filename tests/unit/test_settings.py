"""Settings come from the environment; production refuses development secrets."""

import pytest
from pydantic import BaseModel, SecretStr

from assetflow.api.settings import ApiOptions, ApiSettings
from assetflow.contracts.errors import ConfigError
from assetflow.indexer.settings import IndexerSettings
from assetflow.ingest.settings import IngestSettings
from assetflow.notifier.settings import NotifierSettings
from assetflow.platform.settings import ServiceSettings
from assetflow.snapshotter.settings import SnapshotterSettings
from assetflow.thumbnailer.settings import ThumbnailerSettings

# What each service refuses with ENV=production while it has the local stack's defaults.
DEV_DEFAULT_SECRETS: dict[type[ServiceSettings], list[str]] = {
    ApiSettings: [
        "API_CURSOR_SECRET",
        "API_SHARE_SECRET",
        "S3_SECRET_KEY",
        "WEBHOOKS_SECRET_KEYS",
    ],
    IndexerSettings: ["S3_SECRET_KEY"],
    IngestSettings: [],  # holds no secret
    SnapshotterSettings: ["S3_SECRET_KEY"],
    ThumbnailerSettings: ["S3_SECRET_KEY"],
    NotifierSettings: ["WEBHOOKS_SECRET_KEYS"],  # no storage: no S3 key
}
# What the API needs besides secrets outside ENV=local (tests/unit/test_tokens.py covers it).
API_JWT = {"API_AUTH": "jwt", "API_AUTH_SECRET": "s" * 32}


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
    monkeypatch.setenv("API_SHARE_SECRET", "a-real-share-secret")
    monkeypatch.setenv("WEBHOOKS_SECRET_KEYS", "a-real-webhooks-key")
    with pytest.raises(ConfigError, match="requires API_AUTH=jwt"):
        ApiSettings()  # auth off is for ENV=local only
    monkeypatch.setenv("API_AUTH", "jwt")
    with pytest.raises(ConfigError, match="needs API_AUTH_SECRET or API_AUTH_JWKS_URL"):
        ApiSettings()
    monkeypatch.setenv("API_AUTH_SECRET", "s" * 32)
    settings = ApiSettings()
    assert settings.api.cursor_secret.get_secret_value() == "another-real-secret"
    assert settings.auth_settings().mode == "jwt"


@pytest.mark.parametrize("service", DEV_DEFAULT_SECRETS, ids=lambda cls: cls.__name__)
def test_every_service_refuses_dev_secrets_in_production(
    service: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENV", "production")
    for name, value in API_JWT.items():
        monkeypatch.setenv(name, value)
    expected = DEV_DEFAULT_SECRETS[service]
    if expected:
        with pytest.raises(ConfigError) as refused:
            service()
        assert str(refused.value) == (
            f"development secrets refused with ENV=production: {', '.join(expected)}"
        )
    for name in expected:
        monkeypatch.setenv(name, f"a-real-{name.lower()}")
    settings = service()
    assert settings.env == "production"
    for name in expected:
        section, field = name.lower().split("_", 1)
        secret = getattr(getattr(settings, section), field)
        assert secret.get_secret_value() == f"a-real-{name.lower()}"
    monkeypatch.setenv("ENV", "staging")  # only production refuses them
    for name in expected:
        monkeypatch.delenv(name)
    assert service().env == "staging"


def test_the_check_finds_secrets_in_any_section(monkeypatch: pytest.MonkeyPatch) -> None:
    class Vault(BaseModel):
        token: SecretStr = SecretStr("changeme")
        backup_token: SecretStr | None = None

    class WithVault(IngestSettings):
        vault: Vault = Vault()

    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("VAULT_BACKUP_TOKEN", "dev-cursor-secret")
    with pytest.raises(ConfigError, match=r"production: VAULT_BACKUP_TOKEN, VAULT_TOKEN$"):
        WithVault()
    monkeypatch.setenv("VAULT_BACKUP_TOKEN", "not-a-dev-secret")
    monkeypatch.setenv("VAULT_TOKEN", "neither-is-this")
    assert WithVault().vault.token.get_secret_value() == "neither-is-this"


def test_auth_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_AUTH", "jwt")
    monkeypatch.setenv("API_AUTH_JWKS_URL", "https://idp.example/.well-known/jwks.json")
    monkeypatch.setenv("API_AUTH_AUDIENCE", "assetflow-prod")
    monkeypatch.setenv("API_AUTH_SECRET", "")  # compose passes unset variables as empty
    auth = ApiSettings().auth_settings()
    assert (auth.mode, auth.jwks_url, auth.audience, auth.secret) == (
        "jwt",
        "https://idp.example/.well-known/jwks.json",
        "assetflow-prod",
        None,
    )
    assert ApiSettings(api={"auth": "off"}).auth_settings().mode == "off"  # ENV=local


def test_thumbnailer_options_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUMBNAILER_WORKERS", "3")
    monkeypatch.setenv("THUMBNAILER_MAX_PIXELS", "50000000")
    monkeypatch.setenv("S3_THUMBNAILS_BUCKET", "thumbs")
    settings = ThumbnailerSettings()
    assert settings.thumbnailer.workers == 3
    assert settings.thumbnailer.max_in_flight == 6  # defaults to two per decode thread
    assert settings.thumbnailer.render_options().max_pixels == 50_000_000
    assert settings.s3.thumbnails_bucket == "thumbs"
    monkeypatch.setenv("THUMBNAILER_IN_FLIGHT", "2")
    assert ThumbnailerSettings().thumbnailer.max_in_flight == 2
    monkeypatch.setenv("ENV", "production")
    with pytest.raises(ConfigError, match="S3_SECRET_KEY"):
        ThumbnailerSettings()


def test_rendition_url_period_must_divide_a_day_and_stay_within_a_week() -> None:
    assert ApiOptions(rendition_url_period_s=0).rendition_url_period_s == 0
    assert ApiOptions(rendition_url_period_s=900).rendition_url_period_s == 900
    with pytest.raises(ValueError, match="divide a day"):
        ApiOptions(rendition_url_period_s=7 * 3600)
    with pytest.raises(ValueError, match="exceeds 7 days"):
        ApiOptions(rendition_url_expires_s=7 * 24 * 3600, rendition_url_period_s=3600)


def test_the_bucket_sweep_period_keeps_its_former_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from assetflow.indexer.settings import IndexerSettings

    monkeypatch.setenv("INDEXER_RECONCILE_INTERVAL_S", "7")
    assert IndexerSettings().indexer.sweep_interval_s == 7.0
    monkeypatch.setenv("INDEXER_SWEEP_INTERVAL_S", "9")
    assert IndexerSettings().indexer.sweep_interval_s == 9.0
