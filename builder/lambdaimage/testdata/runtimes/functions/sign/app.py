"""A function whose compiled dependencies (cryptography, cffi, orjson)
overflow the test's lowered limit, so it ships as an image."""
import platform
import sys

import orjson
from cryptography.hazmat.primitives.asymmetric import ed25519


def handler(event, context):
    key = ed25519.Ed25519PrivateKey.generate()
    payload = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    key.public_key().verify(key.sign(payload), payload)  # raises when wrong
    return {
        "machine": platform.machine(),
        "python": "%d.%d" % sys.version_info[:2],
        "verified": True,
        "event": orjson.loads(payload),
    }
