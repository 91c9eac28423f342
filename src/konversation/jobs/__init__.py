"""Background work: delivering the outbox, resuming waiting runs, sending broadcasts."""
