"""Mounting the dashboard on the app."""

from __future__ import annotations

from fastapi import FastAPI


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's routes, static files and middleware to `app`."""
