"""Blueprints: thin views that read arguments, check access, call a service, render."""
