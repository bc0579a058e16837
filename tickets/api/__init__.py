"""The tickets API (DRF): each area has its own views and router module; ``urls`` joins them."""
