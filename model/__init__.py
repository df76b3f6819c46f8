"""The model: the declared Session and Job machines and the one transition function over a world.

Installed as ``sessionspec.model`` (this folder is linked into the package). The bottom layer:
it imports nothing else of sessionspec.
"""
