"""`konversation mcp`: the MCP server over stdio, for clients that start it as a command.

The process runs the app in itself against the same database as `konversation serve` (its
background pump too: leases keep two processes from doing any work twice) and calls it with
the one key it was given, checked before anything is served. Nothing but MCP messages goes to
stdout.
"""

from __future__ import annotations

from mcp.server.stdio import stdio_server

from konversation.app import create_app
from konversation.db import session_scope
from konversation.keys import service as keys
from konversation.mcp_server.server import Konversation
from konversation.settings import Settings


async def serve_stdio(settings: Settings, key: str) -> None:
    """Serve MCP on stdin and stdout until the client closes them; raises `Unauthenticated`
    when `key` is not a live API key."""
    app = create_app(settings)
    konversation = Konversation(app, groups=tuple(settings.mcp_groups), key_of=lambda _: key)
    async with app.router.lifespan_context(app):
        async with session_scope(app.state.sessions) as session:
            await keys.authenticate(
                session, key, server_secret=app.state.server_secret, cache=app.state.key_cache
            )
        try:
            async with stdio_server() as (read, write):
                options = konversation.server.create_initialization_options()
                await konversation.server.run(read, write, options)
        finally:
            await konversation.dispatcher.aclose()
