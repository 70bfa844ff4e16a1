"""Models and AWS helpers the shop's functions share."""
