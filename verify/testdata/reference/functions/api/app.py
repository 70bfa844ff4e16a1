import pydantic
import requests


class Event(pydantic.BaseModel):
    url: str


def handler(event, context):
    return requests.Request("GET", Event(**event).url).prepare().url
