"""Errors that mean "the user asked for something we cannot do": shown as one line, exit non-zero."""


class ButtonError(Exception):
    """Base of user-facing errors; the message must name the problem and the allowed values."""


class ConfigurationError(ButtonError, ValueError):
    """A configuration value or input file is invalid."""
