"""Benchmarks of the broker path against a raw aio-pika baseline (``make bench``).

``python -m benchmarks.run`` sets up an isolated RabbitMQ vhost, PostgreSQL database and
signing keys, runs the simulator and workers as separate processes, measures the cases of
issue 6, writes ``benchmarks/results/*.json`` and prints a Markdown summary. Nothing here is
part of ``make test``.
"""
