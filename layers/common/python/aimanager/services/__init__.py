"""Use cases: each combines the data access, the adapters and the domain rules for one thing a caller does."""
