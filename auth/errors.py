"""Errors of the admin operations (set a password, unlock); their text is safe to show."""


class ContactAdminError(Exception):
    """A request an admin made that cannot be carried out; ``str()`` says why."""


class InvalidCpfError(ContactAdminError):
    pass


class InvalidPasswordError(ContactAdminError):
    pass


class UnknownContactError(ContactAdminError):
    pass
