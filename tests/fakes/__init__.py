"""Fakes of the external services the product talks to: local servers that answer as the real
ones do, for the tests and for the load tools in tools/."""
