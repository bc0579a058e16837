"""Liveness and readiness probes: JSON, no auth, any host."""
from __future__ import annotations

from django.http import JsonResponse


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    return JsonResponse({"status": "ok"})
