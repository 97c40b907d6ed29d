"""The package's version: the one place it is written.

setup.cfg reads it (``version = attr:``, without importing the package), ``__version__`` and the API
client's User-Agent use it, and tests/test_version.py checks widget/package.json carries the same one.
"""

__version__ = "0.1.0"
