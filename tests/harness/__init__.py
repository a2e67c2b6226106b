"""Test harness: a real Docker engine, offline-built images and a multi-node Swarm.

Used by the pytest fixtures in tests/ and by ``python -m tests.harness`` for humans.
"""
