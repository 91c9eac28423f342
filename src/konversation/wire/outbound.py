"""Where the server's own outbound calls may go, as a dependency of the routes that check an
owner's URL (webhooks, stores, mini-apps): the networks the configuration allows besides
public addresses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from konversation.webhooks.addresses import Network


def _allowed_networks(request: Request) -> Sequence[Network]:
    networks: Sequence[Network] = request.app.state.runtime.webhook_networks
    return networks


AllowedNetworks = Annotated[Sequence[Network], Depends(_allowed_networks)]
