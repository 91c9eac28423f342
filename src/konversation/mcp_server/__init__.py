"""The built-in MCP server: the Connect API for AI agents, over stdio and streamable HTTP."""
