"""Running realname as a service: metrics, structured logs without personal data, readiness, backups, the
doctor's checks. One concept per module; the API and the CLI are thin adapters over them."""
