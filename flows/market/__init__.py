"""Marketplace reasoning the journeys use: price suggestions, market analysis, category
guessing (``analysis``) and listing text drafted from what is known (``listing_text``).

Pure functions over the ledger port's values (``ChainObject``, ``ListingMetadata``): no
adapter needs them, and they call none.
"""
