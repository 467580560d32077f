"""The audit log: one entry per change an operator makes, in the console or the API."""
