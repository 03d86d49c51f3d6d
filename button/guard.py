"""A Hydra callback that guards the run directory before Hydra writes anything into it.

Hydra saves ``.hydra/config.yaml`` (and creates the directory) before the application runs,
so a second process, a refused resume or a read-only directory would already have rewritten
or failed on it. ``on_run_start`` comes first: it takes the run directory's lock (kept for the
process's life), checks that a resume keeps the settings, and turns a failure into one line
and an exit code. The pipeline checks both again itself, for runs started from Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from button.ending import EXIT_BAD_INPUT, EXIT_CANNOT_WRITE, EXIT_RUN_DIR_BUSY, cannot_write, fail
from button.run_lock import RunDirectoryBusy, acquire
from button.run_settings import resumed_history
from composition.errors import ConfigurationError


class RunDirectoryGuard(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        run_dir = Path(str(config.hydra.run.dir))
        job = OmegaConf.to_container(OmegaConf.masked_copy(config, [key for key in config if key != "hydra"]), resolve=True)
        try:
            acquire(run_dir)
            resumed_history(run_dir, job, extend=(job.get("runner") or {}).get("resume") == "extend")
        except RunDirectoryBusy as error:
            fail(str(error), EXIT_RUN_DIR_BUSY)
        except ConfigurationError as error:  # settings changed, or a settings.json not ours
            fail(str(error), EXIT_BAD_INPUT)
        except OSError as error:
            fail(cannot_write(run_dir, error), EXIT_CANNOT_WRITE)
