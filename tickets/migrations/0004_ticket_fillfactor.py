"""Leave room on each page of the tickets table (PostgreSQL ``fillfactor``), so updates that
change no indexed column — the SLA sweep flagging ``sla_breached`` a thousand tickets at a
time — are HOT: the new row version stays on its page and none of the table's indexes is
written. Pages written before this migration gain the room as they are rewritten."""
from django.db import migrations

FILLFACTOR = 85


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE tickets_ticket SET (fillfactor = {FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tickets_ticket RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_leaner_ticket_indexes_breached_next_due")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
