"""``manage.py receive_email --channel KEY < message.eml``: for MTA pipes (Postfix, Exim).

The message is stored before the command exits 0, then processed by a worker. Exit codes
follow sysexits so the MTA does the right thing: 67 (unknown channel: bounce), 65 (bad
message: bounce), 75 (temporary failure such as a database outage: the MTA retries).
"""
from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from channels_hub.models import ChannelKind, InboundSource
from channels_hub.services.channels import channel_by_key
from channels_hub.services.inbound import MessageTooLarge, inbound_store

EX_DATAERR = 65
EX_NOUSER = 67
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store one raw email read from standard input for an email channel (for MTA pipes)."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="The channel's key (ch_…).")

    def handle(self, *args, channel: str, **options):
        found = channel_by_key(channel, kind=ChannelKind.EMAIL)
        if found is None:
            self.stderr.write(f"no active email channel with key {channel!r}")
            sys.exit(EX_NOUSER)
        raw = sys.stdin.buffer.read()
        try:
            inbound = inbound_store(channel=found, raw=raw, source=InboundSource.PIPE)
        except MessageTooLarge:
            self.stderr.write("message too large")
            sys.exit(EX_DATAERR)
        except ValidationError:
            self.stderr.write("empty message")
            sys.exit(EX_DATAERR)
        except DatabaseError as exc:
            self.stderr.write(f"temporary failure: {type(exc).__name__}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"stored inbound email {inbound.pk}")
