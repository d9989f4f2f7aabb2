"""The benchmark suite of issue 8: ``python -m bench`` (or ``make bench``).

Modules, in the order a run uses them:

- ``environment``: the Lambda-like environment and context every measured process gets;
- ``apps``: the two ASGI apps, and the floor (an app driven directly);
- ``events``: the request and the three events it is sent as;
- ``sink``: the span exporters the traced stacks use (OTLP-encode, then drop);
- ``stacks``: how each stack under test is built; ``after_response``: the stand-ins for
  the Lambda extension that after-response mode hands its export to;
- ``runner``: the in-process measurement (interleaved rounds), one process per group;
- ``coldstart``: whole-process cold starts (each one a ``cold_child``) and
  ``-X importtime``;
- ``profile``: pyinstrument over the full-telemetry path;
- ``results``, ``report``, ``report_sections``, ``table``, ``machine``: statistics, the
  targets, and the text and Markdown tables with the machine they were measured on.

The modules a cold-start child imports bring in only the standard library at the top
(``sink``, which imports the OpenTelemetry SDK, only for the stacks that trace), so each
child pays for what its stack imports. See docs/performance.md.
"""
