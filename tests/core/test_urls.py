import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_root_of_a_tenant_host_goes_to_the_help_center(tenant):
    response = Client(HTTP_HOST="acme.localhost").get("/")
    assert response.status_code == 302 and response["Location"] == "/hc/"


def test_root_of_the_platform_host_goes_to_the_console(db):
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 302 and response["Location"] == "/console/"


def test_a_platform_superuser_without_memberships_signs_in_through_the_console_to_the_admin(password):
    UserFactory(email="root@platform.test", is_superuser=True, is_staff=True)
    client = Client(HTTP_HOST="localhost")
    response = client.post("/console/login/", {"username": "root@platform.test", "password": password})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_person_without_memberships_is_still_refused(password):
    UserFactory(email="nobody@platform.test")
    response = Client(HTTP_HOST="localhost").post("/console/login/", {"username": "nobody@platform.test",
                                                                       "password": password})
    assert response.status_code == 403
