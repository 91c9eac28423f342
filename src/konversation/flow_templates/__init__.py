"""Flow templates: a bot's flows packaged for installation into other bots, by one-time link."""
