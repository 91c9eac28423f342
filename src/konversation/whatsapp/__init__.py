"""WhatsApp message templates: stored per bot, kept in step with Meta, and sent to subscribers."""
