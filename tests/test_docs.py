"""The examples in docstrings run."""
import doctest

import autograd


def test_autograd_docstring_examples():
    failures, tried = doctest.testmod(autograd)
    assert tried > 0 and failures == 0
