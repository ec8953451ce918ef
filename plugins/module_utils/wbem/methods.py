# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extrinsic method calls for ``wbem_method``: typed parameters from the class, one call.

The class is read once (its method declaration types the input parameters the user wrote in
YAML, and the keys of the instance); then one InvokeMethod is sent, on the instance when keys
(or a path) are given, else on the class (static methods).
"""

from .cim_obj import CIMClassName
from .convert import classname_to_dict, method_result_to_dict, path_from_dict, path_to_dict
from .exceptions import WBEMValueError
from .schema import INVALID_PARAMETER, instance_path, method_declaration, typed_parameters


def method_target(klass, params, namespace):
    """The instance path (keys or path given) or class path the method is invoked on."""
    if params.get('path'):
        path = path_from_dict(params['path'], namespace=namespace)
        if path.classname.lower() != klass.classname.lower():
            raise WBEMValueError('path is an instance of %s, not of class_name %s'
                                 % (path.classname, klass.classname),
                                 error_name=INVALID_PARAMETER)
        return path
    if params.get('keys'):
        return instance_path(klass, params['keys'], namespace)
    return CIMClassName(klass.classname, namespace=namespace)


def return_matches(value, expected):
    """Whether the (plain) return value is the expected one; ``'0'`` matches ``0``."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return str(value).lower() == str(expected).lower()
    if value == expected:
        return True
    return value is not None and expected is not None and str(value) == str(expected)


def invoke_method(conn, cache, params, check_mode=False):
    """Invoke ``params['method']``; returns the module result (without ``msg``)."""
    namespace = (params.get('namespace') or conn.default_namespace).strip('/')
    klass = cache.get(params['class_name'], namespace)
    method = method_declaration(klass, params['method'])
    target = method_target(klass, params, namespace)
    in_params = typed_parameters(method, params.get('params'), params.get('param_types'))
    is_instance = not isinstance(target, CIMClassName)
    result = {'method': method.name,
              'target': path_to_dict(target) if is_instance else classname_to_dict(target),
              'invoked': False, 'changed': not params.get('read_only'),
              'return_value': None, 'return_type': method.return_type, 'out_params': {},
              'out_param_types': {}, 'expected_return': params.get('expect_return'),
              'matched': None}
    if check_mode and not params.get('read_only'):
        return result
    outcome = method_result_to_dict(conn.InvokeMethod(method.name, target, Params=in_params))
    result.update(outcome)
    if result['return_type'] is None:
        result['return_type'] = method.return_type
    result['invoked'] = True
    if params.get('expect_return') is not None:
        result['matched'] = return_matches(result['return_value'], params['expect_return'])
    return result
