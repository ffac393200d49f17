"""The system of record: tables, connections, migrations."""
