"""``python -m digest.cli`` runs the CLI too."""
from . import main

main()
