"""Business operations. They flush; the request or CLI command commits once."""


class ServiceError(ValueError):
    """A problem a user caused, with a message fit to show them."""
