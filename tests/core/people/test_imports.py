"""CSV imports: checked on upload, processed in batches by the task, bad rows reported."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from helpdesk.people import imports, services
from helpdesk.people.models import Contact, ContactIdentity, ImportJob, ImportStatus, Organization
from tests.factories import ContactFactory, ContactIdentityFactory, ImportJobFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

CONTACTS_CSV = """name,email,phone,organization,locale,attr:plan,attr:Customer since
Ayşe Yılmaz,ayse@example.org,+90 532 111 22 33,Yıldız,tr,Premium,2019
Bad Email,not-an-email,,,,,
No Identity,,,,,,
Unknown Org,u@example.org,,Nowhere Ltd,,,
Mehmet Demir,MEHMET@example.org,,,en,Basic,
Conflict,taken@example.org,+90 532 999 88 77,,,,
,,,,,,
Last Row,last@example.org,,,,,
"""


def run(job_kind: str, text: str | bytes, tenant, django_capture_on_commit_callbacks, actor=None) -> ImportJob:
    data = text.encode() if isinstance(text, str) else text
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(tenant=tenant, kind=job_kind, data=data, filename="people.csv", actor=actor)
    job.refresh_from_db()
    return job


def test_contacts_import_creates_updates_and_reports_bad_rows(in_tenant, agent, django_capture_on_commit_callbacks):
    tenant = in_tenant
    OrganizationFactory(tenant=tenant, name="Yıldız", domains=[])
    existing = ContactFactory(tenant=tenant, name="Old Name", attributes={"plan": "Trial", "keep": "yes"})
    ContactIdentityFactory(tenant=tenant, contact=existing, kind="email", value="mehmet@example.org")
    ContactIdentityFactory(tenant=tenant, contact=ContactFactory(tenant=tenant), kind="email",
                           value="taken@example.org")
    ContactIdentityFactory(tenant=tenant, contact=ContactFactory(tenant=tenant), kind="phone", value="+905329998877")

    job = run("contacts", CONTACTS_CSV, tenant, django_capture_on_commit_callbacks, actor=agent)

    assert job.status == ImportStatus.COMPLETED and job.finished_at is not None
    assert (job.total_rows, job.processed_rows) == (7, 7)  # the blank line is not a row
    assert (job.created_count, job.updated_count, job.failed_count) == (2, 1, 4)
    rows = {error["row"]: error["message"] for error in job.errors}
    assert set(rows) == {3, 4, 5, 7}
    assert "not-an-email" in rows[3]
    assert "neither an email nor a phone" in rows[4]
    assert "Nowhere Ltd" in rows[5]
    assert "two different contacts" in rows[7]
    ayse = ContactIdentity.objects.get(value="ayse@example.org").contact
    assert ayse.name == "Ayşe Yılmaz" and ayse.organization.name == "Yıldız" and ayse.locale == "tr"
    assert ayse.attributes == {"plan": "Premium", "Customer since": "2019"}
    assert set(ayse.identities.values_list("value", flat=True)) == {"ayse@example.org", "+905321112233"}
    existing.refresh_from_db()
    assert existing.name == "Mehmet Demir" and existing.attributes == {"plan": "Basic", "keep": "yes"}
    assert not Contact.objects.filter(name__in=["Bad Email", "No Identity", "Unknown Org", "Conflict"]).exists()
    # Importing again changes nothing new: every good row now updates.
    again = run("contacts", CONTACTS_CSV, tenant, django_capture_on_commit_callbacks, actor=agent)
    assert (again.created_count, again.updated_count, again.failed_count) == (0, 3, 4)


def test_organizations_import_with_semicolon_domains(in_tenant, django_capture_on_commit_callbacks):
    OrganizationFactory(tenant=in_tenant, name="Acme", domains=["old.example"])
    text = ("name,domains,notes,auto_assign\n"
            "acme,acme.example;ACME.example.org,Key account,yes\n"
            "Globex,globex.example,,no\n"
            "Thief,acme.example,,\n"
            "Broken,not a domain,,\n"
            "Odd,,,maybe\n")
    job = run("organizations", text, in_tenant, django_capture_on_commit_callbacks)
    assert (job.created_count, job.updated_count, job.failed_count) == (1, 1, 3)
    assert [e["row"] for e in job.errors] == [4, 5, 6]
    acme = Organization.objects.get(name="Acme")
    assert acme.domains == ["acme.example", "acme.example.org"] and acme.auto_assign and acme.notes == "Key account"
    assert not Organization.objects.filter(name__in=["Thief", "Broken", "Odd"]).exists()


def test_turkish_excel_files_with_semicolons_are_read(in_tenant, django_capture_on_commit_callbacks):
    text = "name;email\nÇağrı Öztürk;cagri@example.org\nİpek Işık;ipek@example.org\n"
    job = run("contacts", text.encode("cp1254"), in_tenant, django_capture_on_commit_callbacks)
    assert job.created_count == 2
    assert set(Contact.objects.values_list("name", flat=True)) == {"Çağrı Öztürk", "İpek Işık"}


@pytest.mark.parametrize("kind,text,message", [
    ("contacts", "name,email,fax\nA,a@example.org,1\n", "Unknown columns: fax"),
    ("contacts", "name,organization\nA,B\n", "needs an “email” or a “phone” column"),
    ("organizations", "domains\nx.example\n", "needs a “name” column"),
    ("contacts", "name,email,email\nA,a@example.org,b@example.org\n", "Columns named twice"),
    ("contacts", "name,email\n", "no rows"),
    ("contacts", "", "empty"),
    ("contacts", "\x00\x01binary", "not a CSV"),
    ("people", "name,email\nA,a@example.org\n", "Choose one of"),
])
def test_files_that_cannot_be_imported_are_refused_at_once(in_tenant, kind, text, message):
    with pytest.raises(ValidationError) as info:
        imports.import_job_create(tenant=in_tenant, kind=kind, data=text.encode())
    assert message in " ".join(info.value.messages)
    assert not ImportJob.objects.exists()


def test_rows_are_processed_in_batches_and_a_rerun_resumes(in_tenant, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    rows = "".join(f"Person {n},p{n}@example.org\n" for n in range(5))
    job = ImportJobFactory(tenant=in_tenant, source="name,email\n" + rows, total_rows=5)
    seen = []
    real = imports._contact_row

    def spy(**kwargs):
        seen.append(kwargs["record"]["email"])
        return real(**kwargs)

    monkeypatch.setattr(imports, "_contact_row", spy)
    saves = []
    real_save = ImportJob.save

    def counting_save(self, *args, **kwargs):
        saves.append(self.processed_rows)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(ImportJob, "save", counting_save)
    # A worker died after the first batch: the rerun starts at row 3.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, processed_rows=2)
    imports.import_job_run(tenant=in_tenant, job_id=job.pk)
    job.refresh_from_db()
    assert seen == ["p2@example.org", "p3@example.org", "p4@example.org"]
    assert saves == [4, 5]  # progress saved after every batch
    assert job.status == ImportStatus.COMPLETED and job.created_count == 3
    imports.import_job_run(tenant=in_tenant, job_id=job.pk)  # finished: left alone
    assert len(seen) == 3


def test_the_task_marks_a_job_failed_on_an_unexpected_error(in_tenant, monkeypatch):
    from helpdesk.people.tasks import run_import

    job = ImportJobFactory(tenant=in_tenant)

    def boom(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(imports, "import_job_run", boom)
    run_import.delay(in_tenant.pk, job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "unexpected error" in job.errors[-1]["message"]


def test_import_rows_respect_identity_rules(in_tenant):
    # Precondition the import relies on: services refuse duplicates by name.
    services.organization_create(tenant=in_tenant, name="Dup")
    with pytest.raises(ValidationError):
        services.organization_create(tenant=in_tenant, name="DUP")
