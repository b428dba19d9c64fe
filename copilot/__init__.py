"""Support copilot: grounded reply drafts with verified citations, anamnesis questions and
handoff flags for human support operators."""

__version__ = "0.1.0"
