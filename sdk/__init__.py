"""Client libraries for Gatekeeper-protected APIs (python/, js/, go/) and their shared vectors."""
