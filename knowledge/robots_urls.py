"""``/robots.txt``, included at the root of every host (``helpdesk.urls``)."""
from django.urls import path

from knowledge.views.robots import robots_txt

urlpatterns = [
    path("robots.txt", robots_txt, name="robots"),
]
