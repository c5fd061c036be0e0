import sys

from .cli import main

if __name__ == "__main__":  # a Dask LocalCluster's workers import __main__ again
    sys.exit(main())
