"""Personal data kept no longer than needed (LGPD): ``data purge`` deletes what is older than the
retention settings and sweeps rows past their use; ``contacts forget CPF`` erases one person.

Each package says what it holds (``Purge`` and ``Erasure`` rules in its ``retention`` module);
the app lists them (``app.privacy_rules``), so a package with new personal data adds its rules
there. ``privacy.rules``, which the packages import, imports nothing of the app;
``privacy.cli`` holds the two commands.
"""
