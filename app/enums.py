"""String enums whose members carry data: `NAME = value, *data` (the error codes, the event kinds)."""
from enum import StrEnum


class DataEnum(StrEnum):
    """A member equals its value (and serializes as it); `auto()` as the value stands for the
    member's name. The rest of the tuple is `data`, which a subclass names with properties."""

    def __new__(cls, value: str, *data):
        member = str.__new__(cls, value)
        member._value_ = value
        member.data = data
        return member

    @staticmethod
    def _generate_next_value_(name, start, count, last_values):
        return name
