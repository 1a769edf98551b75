"""Onboard a Django platform's users as Stripe Connect Express accounts."""

__version__ = "0.1.0"
