"""The conformance harness: the suite behind ``sessionspec conform``, its scenario library,
the model serving protocol v1 section 2 (``serve``), the in-process adapter and the pytest plugin.

Imports the model, the rules, ``traces``, ``oracle`` and ``exploration``; ``pictures`` only to draw a failure.
"""
