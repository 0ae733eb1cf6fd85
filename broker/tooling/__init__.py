"""Operator tooling: the ``particulier`` command line (``cli``), the file-to-file batch runner
(``batch``), the demo, and the generators of ``docs/datasets.md`` and ``schemas/``.

Each area's own commands live beside it (``habilitations.cli``, ``journal.cli``,
``certification.cli``, ``db.cli``) and are gathered here into one command.
"""
