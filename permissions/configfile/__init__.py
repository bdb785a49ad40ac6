"""Declarative config (design §8): one YAML or JSON file describes routes, clients, credentials,
permissions and rate limits.

loading.py (text -> data) -> schema.py (data -> specs, located problems) -> plan.py (specs vs
database -> changes; credentials.py matches credential entries) -> apply.py (changes ->
services, one transaction); export.py goes back.
"""
