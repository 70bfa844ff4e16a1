"""Models and AWS helpers shared by Acme's functions."""

from pydantic import BaseModel


class Order(BaseModel):
    id: str
    customer: str
    total_cents: int
