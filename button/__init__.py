"""The `button` application: wires the bottom-up and top-down phases into one Hydra app.

From Python, use :func:`button.api.run_pipeline`; from a shell, the ``button`` command.
"""
