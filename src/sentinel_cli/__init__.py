"""sentinel: the command line of the Sentinel PaaS."""

__version__ = "0.1.0"
