"""loyalty-bff: GraphQL backend-for-frontend for a hybrid mobile loyalty app."""

__version__ = "0.1.0"
