"""CLI subcommands, one module each (``add_parser`` + ``run``); shared option groups live in ``_common``."""
