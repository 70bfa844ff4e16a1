"""The heavy case: numpy, pandas, scipy and pyarrow exceed 250 MiB."""
import numpy
import pandas
import pyarrow
import scipy.linalg


def handler(event, context):
    frame = pandas.DataFrame({"x": numpy.arange(4.0)})
    table = pyarrow.Table.from_pandas(frame)
    return {
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scipy": scipy.__version__,
        "pyarrow": pyarrow.__version__,
        "rows": table.num_rows,
        "det": float(scipy.linalg.det(numpy.eye(3))),
    }
