"""Subcommands of the ``prefdyn`` command line (see :mod:`verify.cli`)."""
