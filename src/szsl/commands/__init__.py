"""One module per ``szsl`` sub-command; see ``szsl.cli``."""
