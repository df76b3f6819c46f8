"""Pictures: state diagrams generated from the declarations, and timelines of traces.

Imports the model, ``traces`` and ``oracle`` (a timeline marks the first violation).
"""
