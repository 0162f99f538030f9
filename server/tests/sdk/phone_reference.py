"""libphonenumber's own answers (Python `phonenumbers`, a second implementation of Google's
metadata) for the numbers given as JSON [[country_code, digits], ...] on stdin: one object
per number, {"parsed": false} or {"parsed", "valid", "type", "region"}."""
import json
import sys

import phonenumbers
from phonenumbers import PhoneNumberType

TYPE_NAMES = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


def answer(country_code, digits):
    try:
        number = phonenumbers.parse("+%s%s" % (country_code, digits), None)
    except phonenumbers.NumberParseException:
        return {"parsed": False}
    valid = phonenumbers.is_valid_number(number)
    return {
        "parsed": True,
        "valid": valid,
        "type": TYPE_NAMES[phonenumbers.number_type(number)] if valid else "unknown",
        "region": phonenumbers.region_code_for_number(number) if valid else None,
        "e164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "national": phonenumbers.national_significant_number(number),
    }


print(json.dumps([answer(cc, digits) for cc, digits in json.load(sys.stdin)]))
