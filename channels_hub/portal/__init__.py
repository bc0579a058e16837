"""The request portal (``/hc/requests/…``, ``/hc/signin/…``): customers submit and follow
their requests on the tenant's own host, signed in by emailed link (or a password)."""
