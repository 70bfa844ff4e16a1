import pyarrow
