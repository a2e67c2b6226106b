"""Ansible callback plugins the CLI puts on ANSIBLE_CALLBACK_PLUGINS (a package, so they install with it)."""
