"""mirantis_ocf: the shared framework of the Mirantis OCF resource agents.

Stdlib only at run time.  Nothing here does work at import time: the
runner reads the environment once, at the edge, and configures logging.

Modules, one concept each:

- ``codes``    the OCF exit codes
- ``errors``   one exception per OCF error, carrying its code and exit reason
- ``params``   typed parameter declarations and the pure validator
- ``metadata`` meta-data XML generated from the declarations
- ``agent``    the declarative agent base class and the action context
- ``runner``   the one place that turns actions into exit codes
- ``log``      HA_* logging conventions
- ``system``   the facade over processes, commands, files and the clock
- ``proc``     pid files, liveness, daemon start and stop built on ``system``
- ``cluster``  node name, membership, attributes, promotion score, claims
"""
