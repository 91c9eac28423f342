"""The audit log: who did what to a workspace, when, and under which request id."""
