"""Celery's configuration: the ``CELERY_*`` Django settings, read once.

Celery reads its settings at every ``delay()`` (about twenty lookups: routes, serializer,
compression, retry policy, …). Given Django's settings object itself, each lookup of a
setting the project leaves at Celery's default went through ``LazySettings.__getattr__`` and
raised ``AttributeError`` in several spellings before reaching the default: about a sixth of
a ``delay()``'s CPU (bench/email_ingest.py publishes two or three per mail). Celery imports
this module when it first needs its configuration, after Django's settings are configured,
so the values are the same ones; what changes Celery's settings at run time (tests) sets
them on ``app.conf``, as before.
"""
from django.conf import settings

CONFIG = {name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}
