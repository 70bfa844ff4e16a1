import lxml.etree
import orjson
import yaml
from cryptography.fernet import Fernet


def handler(event, context):
    doc = yaml.load(event["yaml"], Loader=yaml.CSafeLoader)
    return orjson.dumps({"root": lxml.etree.fromstring(doc["xml"]).tag, "key": len(Fernet.generate_key())})
