"""A function whose two small dependencies overflow the test's lowered limit."""
import os

import idna
import six

from lib import helper


def handler(event, context):
    return {
        "six": six.__version__,
        "idna": idna.__version__,
        "helper": helper.NAME,
        "event": event,
        "task_root": sorted(os.listdir(os.environ["LAMBDA_TASK_ROOT"])),
    }
