"""`python -m adapters.cli`: the `policybot` command without its installed script."""

from adapters.cli import main

main()
