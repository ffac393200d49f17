"""The use cases behind the API and the CLI: one set of services over the registry (see context.Services)."""
