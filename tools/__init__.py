"""Tools for whoever develops policybot, run from a checkout and never installed: the load
generators behind `policybot bench --http` and `--slack`."""
