"""pytest set-up shared by the unit tests and nbval's notebook runs.

Items from files whose name contains "mnist" (notebooks and tests) get the `mnist` marker, so the
slow full-MNIST group runs on its own with `-m mnist` or is left out with `-m "not mnist"`.
"""
import os

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "mnist" in os.path.basename(str(item.fspath)):
            item.add_marker(pytest.mark.mnist)
