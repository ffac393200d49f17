"""realname: real-name phone-number registration with live face verification."""

__version__ = "0.1.0"
