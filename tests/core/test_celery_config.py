"""Celery's configuration is the project's ``CELERY_*`` settings, read once (helpdesk.celery_config)."""
from __future__ import annotations

from django.conf import settings

from helpdesk.celery import app
from helpdesk.celery_config import CONFIG


def test_celery_runs_on_the_projects_settings():
    assert set(CONFIG) == {name for name in dir(settings) if name.startswith("CELERY_")}
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    assert app.conf.timezone == settings.CELERY_TIMEZONE
    # A setting the project leaves alone is Celery's default, found without Django's settings object.
    assert app.conf.task_serializer == "json"


def test_publishing_reads_no_django_setting(monkeypatch):
    """Each ``delay()`` looks up some twenty Celery settings; none may go through Django's
    settings object again (each miss there raised and caught AttributeError in several spellings)."""
    from django.conf import LazySettings

    asked = []
    original = LazySettings.__getattr__

    def spy(self, name):
        asked.append(name)
        return original(self, name)

    monkeypatch.setattr(LazySettings, "__getattr__", spy)
    message = app.amqp.as_task_v2("1f0c", "channels_hub.process_inbound", args=(1, 2))
    app.amqp.router.route({}, "channels_hub.process_inbound", args=(1, 2))
    assert message.headers["task"] == "channels_hub.process_inbound"
    assert not [name for name in asked if name.startswith("CELERY")]
