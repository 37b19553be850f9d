"""Persisted queries: Apollo's automatic protocol and the production allow-list."""
