"""Requests made once however often they are retried: the first answer, kept for a day."""
