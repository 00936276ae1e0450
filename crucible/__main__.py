"""`python -m crucible` runs the command line."""

from crucible.cli.main import main

main()
