"""Running flows for subscribers: the pieces the flow runtime is built from."""
