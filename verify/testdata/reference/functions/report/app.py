import boto3
import numpy
import pandas


def handler(event, context):
    return int(pandas.DataFrame({"a": numpy.arange(3)})["a"].sum())
