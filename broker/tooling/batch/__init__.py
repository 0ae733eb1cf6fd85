"""The file-to-file batch runner (operator tooling): a file of households checked through the
``bulk`` lane with a checkpoint, progress and a report, resumable.

It drives the SDK's :class:`broker.sdk.BatchSession`; see ``docs/batch.md``.
"""
