"""The command line: ``sessionspec COMMAND``, one module per command with its own parser.

The top layer: it may import every engine; nothing imports it.
"""
