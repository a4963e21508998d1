"""notifier settings: the service base, MongoDB and webhook security, plus delivery tuning."""

from pydantic import Field, model_validator

from assetflow.domain.webhooks import WithWebhooks
from assetflow.platform.consuming import ConsumerOptions
from assetflow.platform.settings import ServiceSettings, WithMongo


class NotifierOptions(ConsumerOptions):
    """How deliveries are sent and retried (env ``NOTIFIER_*``)."""

    timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="one attempt's connect, write and read timeout"
    )
    concurrency: int = Field(
        default=32, ge=1, le=1000, description="webhooks sent to at once (one delivery each)"
    )
    retry_initial_s: float = Field(
        default=1.0, gt=0, description="first retry delay; doubles per attempt, with jitter"
    )
    retry_max_s: float = Field(
        default=300.0, gt=0, description="longest delay between attempts (also caps Retry-After)"
    )
    max_attempts: int = Field(
        default=15, ge=1, le=100, description="attempts before a delivery is recorded as failed"
    )
    max_age_s: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="a delivery not sent this long after it was queued is recorded as failed",
    )
    poll_interval_s: float = Field(
        default=0.5, gt=0, le=60, description="how often the queue is looked at for due deliveries"
    )

    @model_validator(mode="after")
    def _lease_outlives_an_attempt(self) -> "NotifierOptions":
        """Retries must be possible within the age bound."""
        if self.retry_initial_s > self.max_age_s:
            raise ValueError("retry_initial_s must be below max_age_s")
        return self

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery is left to its sender: an attempt, resolving included,
        and a margin; after it (a crashed sender), another instance sends it."""
        return 2 * self.timeout_s + 30.0


class NotifierSettings(ServiceSettings, WithMongo, WithWebhooks):
    """Everything the notifier reads from the environment."""

    notifier: NotifierOptions = NotifierOptions()
