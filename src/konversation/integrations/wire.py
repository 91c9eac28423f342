"""The Connect API's shapes for integrations: what each takes, and what reading it back shows.

Secret settings come back masked (`••••` and the last four characters). Sending a mask back
unchanged keeps the stored secret, so a client may save what it read with one field changed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

SECRET = "Stored encrypted; read back masked."
STATUS = Field(
    description="`active` once saved, `inactive` when not connected.", examples=["active"]
)


class ShopifyIn(BaseModel):
    url: str = Field(max_length=255, description="The shop's myshopify domain.")
    api_key: str = Field(max_length=255, description=f"The app's API key. {SECRET}")
    token: str = Field(max_length=255, description=f"An Admin API access token. {SECRET}")
    wait_time: int | None = Field(
        default=None,
        ge=1,
        le=10_080,
        description="Minutes after which an unfinished cart counts as abandoned (30 if unset).",
        examples=[30],
    )


class ShopifyOut(BaseModel):
    url: str = Field(examples=["acme.myshopify.com"])
    api_key: str = Field(examples=["••••c0de"])
    token: str = Field(examples=["••••9f2a"])
    wait_time: int = Field(examples=[30])
    status: str = STATUS


class WooCommerceIn(BaseModel):
    url: str = Field(max_length=255, description="The store's address.")
    api_key: str = Field(max_length=255, description=f"A REST API consumer key. {SECRET}")
    token: str = Field(max_length=255, description=f"Its consumer secret. {SECRET}")


class WooCommerceOut(BaseModel):
    url: str = Field(examples=["https://shop.example.com"])
    api_key: str = Field(examples=["••••a1b2"])
    token: str = Field(examples=["••••c3d4"])
    status: str = STATUS


class DropiIn(BaseModel):
    url: str = Field(max_length=255, description="Dropi's API address for the account's country.")
    api_key: str = Field(max_length=512, description=f"The integration key. {SECRET}")


class DropiOut(BaseModel):
    url: str = Field(examples=["https://api.dropi.co/"])
    api_key: str = Field(examples=["••••e5f6"])
    status: str = STATUS


class MetaConversionsIn(BaseModel):
    token: str = Field(max_length=512, description=f"A Conversions API access token. {SECRET}")
    dataset_id: str = Field(max_length=64, description="The dataset (pixel) events go to.")


class MetaConversionsOut(BaseModel):
    token: str = Field(examples=["••••77aa"])
    dataset_id: str = Field(examples=["1234567890123456"])
    status: str = STATUS


class OpenAIIn(BaseModel):
    api_key: str = Field(max_length=512, description=f"The API key. {SECRET}")
    org_id: str | None = Field(
        default=None, max_length=255, description="An organization id, sent with every call."
    )
    base_url: str | None = Field(
        default=None,
        max_length=255,
        description=(
            "Any OpenAI-compatible server, such as a local model; the server's default "
            "(OpenAI itself unless configured otherwise) when unset."
        ),
        examples=["https://api.openai.com/v1"],
    )


class OpenAIOut(BaseModel):
    api_key: str = Field(examples=["••••Qx7z"])
    org_id: str = Field(examples=[""])
    base_url: str = Field(examples=[""])
    status: str = STATUS


class S3StorageIn(BaseModel):
    url: str = Field(max_length=255, description="The S3-compatible endpoint.")
    api_key: str = Field(max_length=255, description=f"The access key id. {SECRET}")
    secret: str = Field(max_length=255, description=f"The secret access key. {SECRET}")
    bucket: str = Field(max_length=63, description="Where files that subscribers send are kept.")
    region: str | None = Field(default=None, max_length=32, examples=["eu-north-1"])


class S3StorageOut(BaseModel):
    url: str = Field(examples=["https://s3.eu-north-1.amazonaws.com"])
    api_key: str = Field(examples=["••••KEY1"])
    key: str = Field(description="The same as `api_key`.", examples=["••••KEY1"])
    secret: str = Field(examples=["••••s3cr"])
    bucket: str = Field(examples=["acme-chat-media"])
    region: str = Field(examples=["eu-north-1"])
    status: str = STATUS

    @model_validator(mode="before")
    @classmethod
    def _key_as_read(cls, values: dict[str, Any]) -> dict[str, Any]:
        # Reading this integration calls the access key `key`, saving it calls it `api_key`.
        return {**values, "key": values.get("api_key", "")}
