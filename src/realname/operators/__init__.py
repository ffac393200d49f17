"""Running an operator: logins and roles, outlets and users, settings, encryption keys, retention and the demo
operator."""
