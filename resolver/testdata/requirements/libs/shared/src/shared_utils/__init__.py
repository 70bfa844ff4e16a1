"""Helpers shared by the orders functions."""
