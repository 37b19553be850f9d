"""GraphQL of paying with points: spending rules (staff) and what may pay an order."""
