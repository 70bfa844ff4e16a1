"""Domain model of the orders service."""
