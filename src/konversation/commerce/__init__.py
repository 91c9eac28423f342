"""The shop: catalogue, discount codes, carts and orders."""
