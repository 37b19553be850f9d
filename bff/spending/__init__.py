"""Paying for orders with points: how much of an order points may pay, and what a point
is worth."""
