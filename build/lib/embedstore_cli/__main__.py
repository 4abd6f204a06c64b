"""``python -m embedstore_cli`` runs the ``embed`` command."""

from .main import main

main()
