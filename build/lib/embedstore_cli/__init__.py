"""The ``embed`` command (installed as the package ``embedstore_cli``)."""
