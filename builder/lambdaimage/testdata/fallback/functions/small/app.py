import six


def handler(event, context):
    return six.__version__
