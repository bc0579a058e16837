"""A test-only endpoint that exercises the API plumbing the way real endpoints will.

Mounted by ``tests.core.api.urls`` under ``/api/v1/_probe/`` (tests opt in with
``@pytest.mark.urls``), so the idempotency middleware, throttle, parsers, strict input
serializer, scopes and error handler all apply exactly as in production.
"""
from __future__ import annotations

import threading
import uuid

from django.db import transaction
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.people.models import Organization
from helpdesk.tenancy.roles import Scope


class AddressInput(StrictInputSerializer):
    city = serializers.CharField(max_length=50)
    zip = serializers.CharField(max_length=10, required=False)


class ProbeInput(StrictInputSerializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=50)
    size = serializers.IntegerField(min_value=0, required=False)
    active = serializers.BooleanField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=20), required=False, max_length=5)
    address = AddressInput(required=False)


class ProbeOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]


class Calls:
    """Counts what the probe executed (a replay must not execute)."""

    created = 0
    exploded = 0
    slow_entered = threading.Event()
    slow_release = threading.Event()

    @classmethod
    def reset(cls) -> None:
        cls.created = cls.exploded = 0
        cls.slow_entered = threading.Event()
        cls.slow_release = threading.Event()


class ProbeViewSet(TenantGenericViewSet):
    model = Organization
    serializer_class = ProbeOutput
    ordering = "-id"
    scopes = {"list": Scope.CONTACTS_READ, "retrieve": Scope.CONTACTS_READ, "create": Scope.CONTACTS_WRITE,
              "explode": Scope.CONTACTS_WRITE, "duplicate": Scope.CONTACTS_WRITE, "slow": Scope.CONTACTS_WRITE,
              "reject": Scope.CONTACTS_WRITE}

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProbeOutput(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ProbeOutput(self.get_object()).data)

    def create(self, request):
        data = ProbeInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            # Names are unique per tenant; the probe may create "the same" one many times.
            name = f"{data.validated_data['name']} {uuid.uuid4().hex[:8]}"
            organization = Organization.objects.create(tenant=self.tenant, name=name)
        Calls.created += 1
        return Response(ProbeOutput(organization).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/_probe/{organization.pk}/"})

    @action(detail=False, methods=["post"])
    def duplicate(self, request):
        with transaction.atomic():
            Organization.objects.create(tenant=self.tenant, name="Twin")
            Organization.objects.create(tenant=self.tenant, name="Twin")
        return Response(status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"])
    def explode(self, request):
        Calls.exploded += 1
        raise RuntimeError("probe failure")

    @action(detail=False, methods=["post"])
    def reject(self, request):
        Calls.exploded += 1
        return Response({"error": {"code": "conflict", "message": "busy", "fields": {}}},
                        status=status.HTTP_409_CONFLICT)

    @action(detail=False, methods=["post"])
    def slow(self, request):
        Calls.slow_entered.set()
        Calls.slow_release.wait(10)
        Calls.created += 1
        return Response({"done": True}, status=status.HTTP_201_CREATED)
