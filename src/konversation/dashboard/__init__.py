"""The dashboard: the bot owner's pages, server-rendered."""
