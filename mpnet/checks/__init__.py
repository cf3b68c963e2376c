"""Checks at mpnet's boundaries: arguments, data and dtypes, each failure naming the culprit (beside errors;
pure Python at import, torch only inside the tensor checks).

Every check raises an :class:`~mpnet.errors.ArgumentError` (arguments) or :class:`~mpnet.errors.DataError`
(data) whose message names the argument, says what came and what is expected::

    >>> check_int(0, "epochs", min=1)
    Traceback (most recent call last):
    mpnet.errors.ArgumentError: Expected epochs to be an int >= 1 (got 0).

and returns the value normalised (an ``int``, a ``float``, a tensor), so a caller writes
``epochs = check_int(epochs, "epochs", min=1)`` once, at its top.

The checks of plain arguments are in :mod:`mpnet.checks.arguments` (pure Python), those of tensors, data and
dtypes in :mod:`mpnet.checks.tensors` (torch imported inside each check); every name is importable from here.
"""
from .arguments import (MAX_HISTORY, SEED_RANGE, check_bool, check_choice, check_epochs, check_float, check_fraction,
                        check_int, check_memory, check_seed, describe, physical_memory)
from .tensors import (SUPPORTED_DTYPES, as_tensor, check_device, check_dtype, check_finite, check_loss_value,
                      check_optimizer, check_rows, check_targets)

__all__ = ["check_int", "check_float", "check_fraction", "check_bool", "check_choice", "check_seed", "check_memory",
           "check_epochs", "physical_memory", "check_dtype", "check_device", "as_tensor", "check_finite", "check_rows",
           "check_targets", "check_optimizer", "check_loss_value", "describe", "SUPPORTED_DTYPES", "SEED_RANGE",
           "MAX_HISTORY"]
