"""Deprecation paths for renamed parameters: the old name still works, with a FutureWarning."""

from __future__ import annotations

import functools
import warnings

#: The release that removes the deprecated names.
REMOVED_IN = "0.3"


def renamed_parameters(*, positional: tuple[str, ...] = (), **renames: str):
    """Decorate a function (or ``__init__``) whose keyword parameters were renamed ``old=new``.

    A call with an old name warns (FutureWarning, naming the new one) and passes the value
    under the new name; giving both is a TypeError. ``positional`` lists parameters that
    became keyword-only: positional values for them (after ``self`` for methods) are
    mapped in that order, with the same warning. ``inspect.signature`` still shows the
    new signature, so scikit-learn style ``get_params`` sees the new names only.
    """

    def decorate(func):
        is_method = func.__name__ == "__init__"

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            head, extra = (args[:1], args[1:]) if is_method else ((), args)
            if positional and extra:
                if len(extra) > len(positional):
                    raise TypeError(f"{func.__qualname__} takes at most {len(positional)} positional "
                                    f"arguments; pass the others by keyword.")
                names = positional[: len(extra)]
                warnings.warn(f"{func.__qualname__}: positional {', '.join(names)} are deprecated and stop "
                              f"working in {REMOVED_IN}; pass them by keyword ({names[0]}=...).",
                              FutureWarning, stacklevel=2)
                for name, value in zip(names, extra, strict=True):
                    if name in kwargs:
                        raise TypeError(f"{func.__qualname__} got {name} twice.")
                    kwargs[name] = value
                extra = ()
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__qualname__}: pass {new}= only "
                                        f"({old}= is its deprecated name).")
                    warnings.warn(f"{func.__qualname__}: {old}= is deprecated and stops working in "
                                  f"{REMOVED_IN}; use {new}= (same meaning).", FutureWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*head, *extra, **kwargs)

        return wrapper

    return decorate
