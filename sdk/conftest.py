"""Gatekeeper's suite collects sdk/tests only: each client library (python/, js/, go/) runs its
own tests with its own toolchain (`make sdk-test`)."""

collect_ignore = ["python", "js", "go"]
