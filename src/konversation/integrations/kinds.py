"""The outside services a workspace can connect, and the settings each one takes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Also the last segment of each integration's path, as in `/integration/openai`."""

    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    DROPI = "dropi"
    META_CONVERSIONS = "meta-conversions-api"
    OPENAI = "openai"
    S3 = "s3storage"


@dataclass(frozen=True)
class Setting:
    name: str
    required: bool = False
    # Sealed at rest and only ever read back masked.
    secret: bool = False
    default: str | int | None = None


@dataclass(frozen=True)
class Spec:
    kind: Kind
    title: str
    settings: tuple[Setting, ...]

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.settings if s.secret)


SPECS: dict[Kind, Spec] = {
    spec.kind: spec
    for spec in (
        Spec(
            Kind.SHOPIFY,
            "Shopify",
            (
                Setting("url", required=True),
                Setting("api_key", required=True, secret=True),
                Setting("token", required=True, secret=True),
                # Minutes before a cart left behind counts as abandoned.
                Setting("wait_time", default=30),
            ),
        ),
        Spec(
            Kind.WOOCOMMERCE,
            "WooCommerce",
            (
                Setting("url", required=True),
                Setting("api_key", required=True, secret=True),
                Setting("token", required=True, secret=True),
            ),
        ),
        Spec(
            Kind.DROPI,
            "Dropi",
            (Setting("url", required=True), Setting("api_key", required=True, secret=True)),
        ),
        Spec(
            Kind.META_CONVERSIONS,
            "Meta Conversions API",
            (Setting("token", required=True, secret=True), Setting("dataset_id", required=True)),
        ),
        Spec(
            Kind.OPENAI,
            "OpenAI",
            (
                Setting("api_key", required=True, secret=True),
                Setting("org_id", default=""),
                # Our own addition: any OpenAI-compatible server (a local model, a proxy).
                Setting("base_url", default=""),
            ),
        ),
        Spec(
            Kind.S3,
            "S3 storage",
            (
                Setting("url", required=True),
                Setting("api_key", required=True, secret=True),
                Setting("secret", required=True, secret=True),
                Setting("bucket", required=True),
                Setting("region", default="us-east-1"),
            ),
        ),
    )
}
