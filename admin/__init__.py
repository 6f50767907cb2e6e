"""The admin console at ``/admin/``: accounts of its own (not caller contacts), reports on the
calls table, the menu as a diagram and a preview of an edited ``menus.yaml``.

Sits above ``ivr``, ``auth`` and ``tickets`` (it reads their tables); nothing below imports it.
"""
