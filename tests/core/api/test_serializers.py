"""StrictInputSerializer: undeclared keys are errors that name the key."""
from rest_framework import serializers

from helpdesk.api.errors import flatten_errors
from helpdesk.api.serializers import StrictInputModelSerializer, StrictInputSerializer
from helpdesk.people.models import Organization


class Line(StrictInputSerializer):
    sku = serializers.CharField()


class Order(StrictInputSerializer):
    number = serializers.IntegerField()
    created = serializers.DateTimeField(read_only=True)
    lines = Line(many=True)


def errors(data) -> dict:
    serializer = Order(data=data)
    assert not serializer.is_valid()
    return flatten_errors(serializer.errors)


def test_valid_input_passes():
    serializer = Order(data={"number": 1, "lines": [{"sku": "a"}]})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["lines"][0]["sku"] == "a"


def test_unknown_and_read_only_keys_are_named_with_the_other_errors():
    assert errors({"number": "x", "created": "now", "extra": 1, "lines": []}) == {
        "number": ["A valid integer is required."],
        "created": ["This field is read-only."],
        "extra": ["Unknown field."],
    }


def test_unknown_keys_in_list_items_are_named_by_position():
    assert errors({"number": 1, "lines": [{"sku": "a"}, {"sku": "b", "qty": 2}]}) == {"lines.1.qty": ["Unknown field."]}


def test_the_model_variant_is_strict_too():
    class OrganizationInput(StrictInputModelSerializer):
        class Meta:
            model = Organization
            fields = ["name", "notes"]

    serializer = OrganizationInput(data={"name": "A", "tenant": 2})
    assert not serializer.is_valid()
    assert serializer.errors == {"tenant": ["Unknown field."]}
