# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM data types: integer ranges, reals, char16, CIMDateTime."""

from datetime import datetime, timedelta

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import HostsecError
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import cim_types as t
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import (
    WBEMTypeError, WBEMValueError)


@pytest.mark.parametrize('cls,low,high', [
    (t.Uint8, 0, 255), (t.Sint8, -128, 127), (t.Uint16, 0, 65535), (t.Sint16, -32768, 32767),
    (t.Uint32, 0, 2 ** 32 - 1), (t.Sint32, -2 ** 31, 2 ** 31 - 1), (t.Uint64, 0, 2 ** 64 - 1),
    (t.Sint64, -2 ** 63, 2 ** 63 - 1)])
def test_integer_ranges(cls, low, high):
    assert cls(low) == low and cls(high) == high
    assert cls.cimtype == cls.__name__.lower()
    for bad in (low - 1, high + 1):
        with pytest.raises(WBEMValueError) as info:
            cls(bad)
        assert isinstance(info.value, ValueError) and isinstance(info.value, HostsecError)
        assert cls.cimtype in str(info.value)


def test_integer_behaves_like_int():
    value = t.Uint32(42)
    assert isinstance(value, int) and value + 1 == 43 and str(value) == '42'
    assert repr(value) == 'Uint32(42)'
    assert t.Uint8(x=7) == 7
    assert t.Uint16('12') == 12


def test_reals_and_xml_text():
    assert t.value_to_xml_text(t.Real32(12345.0)) == '12345.0'
    assert t.value_to_xml_text(t.Real64(0.1)) == '0.10000000000000001'
    assert t.value_to_xml_text(t.Real64(float('nan'))) == 'NaN'
    assert t.value_to_xml_text(t.Real64(float('inf'))) == 'INF'
    assert t.value_to_xml_text(True) == 'TRUE'
    assert t.value_to_xml_text(t.Sint8(-3)) == '-3'
    assert t.value_to_xml_text(None) is None
    with pytest.raises(WBEMTypeError):
        t.value_to_xml_text(object())


def test_char16():
    value = t.Char16('x')
    assert value == 'x' and value.cimtype == 'char16' and t.cimtype(value) == 'char16'


def test_datetime_timestamp():
    value = t.CIMDateTime('20240131123005.123456+060')
    assert not value.is_interval
    assert value.datetime == datetime(2024, 1, 31, 11, 30, 5, 123456, t.MinutesFromUTC(0))
    assert value.minutes_from_utc == 60
    assert str(value) == '20240131123005.123456+060'
    assert value == t.CIMDateTime(value.datetime)
    assert t.CIMDateTime('20240131123005.123456-090').minutes_from_utc == -90
    assert hash(value) == hash(t.CIMDateTime(str(value)))


def test_datetime_interval_and_precision():
    value = t.CIMDateTime('00000001020304.000005:000')
    assert value.is_interval
    assert value.timedelta == timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5)
    assert str(value) == '00000001020304.000005:000'
    wild = t.CIMDateTime('20240131******.******+000')
    assert wild.precision == 8 and str(wild) == '20240131******.******+000'
    assert str(t.CIMDateTime(timedelta(seconds=61))) == '00000000000101.000000:000'
    naive = t.CIMDateTime(datetime(2020, 1, 2, 3, 4, 5))
    assert str(naive) == '20200102030405.000000+000'
    assert value != t.CIMDateTime('00000001020304.000006:000')
    assert value != 'x'


@pytest.mark.parametrize('text', ['2024', '20241331123005.000000+000', 'abcdefghijklmn.000000+000',
                                  '2024013112**05.000000+000', '20240131123005.000000*000'])
def test_datetime_invalid(text):
    with pytest.raises(WBEMValueError):
        t.CIMDateTime(text)


def test_datetime_type_error():
    with pytest.raises(WBEMTypeError):
        t.CIMDateTime(3)


def test_cimtype_and_type_from_name():
    assert t.cimtype(True) == 'boolean'
    assert t.cimtype('a') == 'string'
    assert t.cimtype([t.Uint8(1)]) == 'uint8'
    assert t.cimtype(datetime.now()) == 'datetime'
    with pytest.raises(WBEMTypeError):
        t.cimtype(5)
    with pytest.raises(WBEMValueError):
        t.cimtype([])
    assert t.type_from_name('uint16') is t.Uint16
    with pytest.raises(WBEMValueError):
        t.type_from_name('uint128')
