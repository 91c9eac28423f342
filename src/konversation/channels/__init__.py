"""Messaging channels: how a flow's messages reach subscribers and how their answers come back.

`base` holds the channel-neutral message model and the `Channel` protocol; each other module
adapts one messaging service (`telegram`) to it.
"""
