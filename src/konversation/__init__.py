"""Konversation: a self-hosted chatbot platform with a UChat-compatible Connect API."""

__version__ = "0.1.0"
