"""The ``realname`` command: a thin layer over the same services the API uses."""
