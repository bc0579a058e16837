"""``/api/v1/contacts/`` and ``/api/v1/organizations/``."""
