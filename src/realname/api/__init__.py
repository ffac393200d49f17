"""The REST API: thin routes over :mod:`realname.faces`."""
