"""The Connect API's shapes for installed mini-apps and the triggers they fire."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from konversation.flows.format import AppActionName, AppNs, AppParamName, AppTriggerName
from konversation.miniapps.models import MAX_APP_NS, MAX_TRIGGER_NAME, AuthType, InstalledApp
from konversation.miniapps.service import AppAction, AppTrigger, Declaration
from konversation.sending.wire import Variables
from konversation.subscribers.wire import UserNsIn

MAX_PARAMS = 20
MAX_ACTIONS = 50
MAX_TRIGGERS = 50

ParamNames = Annotated[list[AppParamName], Field(max_length=MAX_PARAMS)]
WebAddress = Annotated[
    str,
    Field(max_length=1024, pattern=r"^https?://", examples=["https://crm.example.com/logo.png"]),
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is required")
    return value.strip()


def _refuse_repeats(names: list[str], what: str) -> None:
    if len(set(names)) != len(names):
        raise ValueError(f"names {what} more than once")


class InstalledAppOut(BaseModel):
    """An installed mini-app, as the list shows it."""

    id: int = Field(examples=[1])
    title: str = Field(examples=["Acme CRM"])
    intro: str = Field(examples=["Looks up customers in Acme CRM."])
    logo: str | None = Field(examples=["https://crm.example.com/logo.png"])
    image: str | None = Field(examples=[None])
    app_ns: str = Field(examples=["acme_crm"])
    status: str = Field(examples=["active"])
    version: str = Field(examples=["1.0"])
    auth_type: str = Field(examples=["apikey"], description="apikey or oauth2.")
    param_names: list[str] = Field(
        examples=[["api_key"]], description="The names of the settings the app takes."
    )
    has_api_key: bool = Field(
        examples=[True], description="Whether its API key is set (the key itself is never shown)."
    )

    @classmethod
    def of(cls, app: InstalledApp) -> InstalledAppOut:
        return InstalledAppOut(**_listed(app))


def _listed(app: InstalledApp) -> dict[str, Any]:
    return {
        "id": app.id,
        "title": app.title,
        "intro": app.intro,
        "logo": app.logo,
        "image": app.image,
        "app_ns": app.app_ns,
        "status": app.status,
        "version": app.version,
        "auth_type": app.auth_type,
        "param_names": app.param_names,
        "has_api_key": app.sealed_api_key is not None,
    }


Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class ActionDeclarationIn(BaseModel):
    name: AppActionName
    method: Method = Field(examples=["GET"])
    path: str = Field(
        max_length=1024,
        pattern=r"^/[^\s?#]*$",
        examples=["/customers/lookup"],
        description="Joined to the app's base_url.",
    )
    param_names: ParamNames = Field(
        default=[], examples=[["phone"]], description="The params the action takes."
    )


class TriggerDeclarationIn(BaseModel):
    name: AppTriggerName
    description: str = Field(default="", max_length=1024, examples=["An invoice was paid."])


class InstallAppIn(BaseModel):
    app_ns: AppNs
    title: Annotated[str, AfterValidator(_not_blank)] = Field(max_length=255, examples=["Acme CRM"])
    intro: str = Field(default="", max_length=4096)
    logo: WebAddress | None = None
    image: WebAddress | None = None
    version: str = Field(default="1.0", min_length=1, max_length=32, examples=["1.0"])
    auth_type: AuthType = Field(default=AuthType.API_KEY, examples=["apikey"])
    base_url: str = Field(
        max_length=2048,
        pattern=r"^https?://[^\s]+$",
        examples=["https://crm.example.com/api"],
        description="Where the app's actions are; public, or in the server's allowed networks.",
    )
    param_names: ParamNames = Field(default=[], examples=[["api_key"]])
    actions: list[ActionDeclarationIn] = Field(default=[], max_length=MAX_ACTIONS)
    triggers: list[TriggerDeclarationIn] = Field(default=[], max_length=MAX_TRIGGERS)

    @field_validator("actions")
    @classmethod
    def _action_names_are_unique(
        cls, actions: list[ActionDeclarationIn]
    ) -> list[ActionDeclarationIn]:
        _refuse_repeats([action.name for action in actions], "an action")
        return actions

    @field_validator("triggers")
    @classmethod
    def _trigger_names_are_unique(
        cls, triggers: list[TriggerDeclarationIn]
    ) -> list[TriggerDeclarationIn]:
        _refuse_repeats([trigger.name for trigger in triggers], "a trigger")
        return triggers

    def declaration(self) -> Declaration:
        return Declaration(
            app_ns=self.app_ns,
            title=self.title,
            base_url=self.base_url,
            auth_type=self.auth_type,
            intro=self.intro,
            logo=self.logo,
            image=self.image,
            version=self.version,
            param_names=self.param_names,
            actions=[AppAction(a.name, a.method, a.path, a.param_names) for a in self.actions],
            triggers=[AppTrigger(t.name, t.description) for t in self.triggers],
        )


class AppActionOut(BaseModel):
    name: str
    method: str
    path: str
    param_names: list[str]


class AppTriggerOut(BaseModel):
    name: str
    description: str


class InstalledAppDetailOut(InstalledAppOut):
    """An installed mini-app with what it declared: where it is, its actions and triggers."""

    base_url: str = Field(examples=["https://crm.example.com/api"])
    actions: list[AppActionOut]
    triggers: list[AppTriggerOut]

    @classmethod
    def of(cls, app: InstalledApp) -> InstalledAppDetailOut:
        return InstalledAppDetailOut.model_validate(
            {
                **_listed(app),
                "base_url": app.base_url,
                "actions": app.actions,
                "triggers": app.triggers,
            }
        )


class UpdateApiKeyIn(BaseModel):
    api_key: Annotated[str, AfterValidator(_not_blank)] = Field(
        max_length=4096, description="The key the app is called with.", examples=["ak_live_123"]
    )


class FireTriggerIn(UserNsIn):
    trigger_name: Annotated[str, AfterValidator(_not_blank)] = Field(
        max_length=MAX_APP_NS + 1 + MAX_TRIGGER_NAME, examples=["acme_crm:paid"]
    )
    context: Variables = Field(
        default=None,
        description="Values the started flows can use as `{{name}}`.",
        examples=[{"product_id": "123", "product_name": "apple"}],
    )
