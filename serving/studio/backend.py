"""The studio's state behind the web app: the clients, the models found (re-discovered as they change), and
the actions run on them. No web framework here: `serving.studio.app` is the HTTP layer over it."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

from serving.client import ServingError, ShoesClient
from serving.rest_client import RestClient
from serving.studio import actions
from serving.studio.directions import Direction
from serving.studio.discovery import DEFAULT_MODELS, DOWN_CODES, Catalog, ModelMissing, discover, model_base_names
from serving.studio.uploads import MiB, png_data_url

# Errors after which the models are looked up again before the next call: a model (version) that went
# away or changed its signatures, a new version that refuses what the old one took (a label it dropped:
# the settings were checked against the vocabularies found before), or a server that stopped answering.
STALE_CODES = ("NOT_FOUND", "FAILED_PRECONDITION", "INVALID_ARGUMENT", *DOWN_CODES)


class Studio:
    """The models behind the page and what a designer does with them.

    Args:
        target: the server (`actions.Target`: gRPC ``server`` or REST ``rest``).
        models: model names to look for (with `model_base`: besides its folders).
        model_base: a TF Serving model base whose folders name models; listed again at every discovery,
            so a model published while the studio runs appears.
        directions: latent directions for the Edit tab.
        max_upload_mb: the largest upload taken, in MB.
        timeout: seconds a model call may take.
        refresh_seconds: how old the list of models may grow before it is looked up again.
    """

    def __init__(self, target: actions.Target, models=(), model_base: str | Path | None = None, directions: list[Direction] = (),
                 max_upload_mb: float = 10.0, timeout: float = 60.0, refresh_seconds: float = 10.0):
        self.target, self.model_base = target, model_base
        self.models, self.directions = list(models), list(directions)
        self.max_upload_bytes = int(max_upload_mb * MiB)
        self.refresh_seconds = refresh_seconds
        self.client = self._client(timeout, retries=2)
        self.probe = self._client(min(timeout, 5.0), retries=0)  # discovery: a down server is said at once
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def _client(self, timeout: float, retries: int):
        if self.target.rest:
            return RestClient(self.target.rest, "shoes", timeout=timeout, retries=retries)
        return ShoesClient(self.target.server, "shoes", timeout=timeout, retries=retries)

    def close(self) -> None:
        self.client.close()
        self.probe.close()

    def names(self) -> list[str]:
        """The model names to look for: the given ones and the model base's, or the conventional ones."""
        listed = model_base_names(self.model_base) if self.model_base else []
        return list(dict.fromkeys([*self.models, *listed])) if self.models or self.model_base else list(DEFAULT_MODELS)

    def catalog(self) -> Catalog:
        """The models found, looked up again when older than ``refresh_seconds``, after `forget`, or while the server is down."""
        with self._lock:
            known = self._catalog
            if known is None or not known.up or time.monotonic() - known.checked > self.refresh_seconds:
                try:
                    names = self.names()
                except OSError as error:
                    return Catalog(up=False, message=f"cannot list the model base: {error}")
                self._catalog = known = discover(self.probe, names)
            return known

    def forget(self) -> None:
        """Makes the next `catalog` look the models up again."""
        with self._lock:
            self._catalog = None

    def state(self) -> dict:
        """What the page shows: the server, each tab's models, what is missing, the limits."""
        catalog = self.catalog()
        server = {"target": " ".join(self.target.flags()), "up": catalog.up, "message": catalog.message}
        editable = [
            {"model": model.name, "directions": [d.summary(i) for i, d in enumerate(self.directions) if d.fits(model)]}
            for ability in ("latent_w", "latent_z") for model in catalog.having(ability)
        ]
        redesign = [{"model": m.name, "segmenters": [s.name for s in catalog.segmenters_for(m)]} for m in catalog.having("spade")]
        tabs = {
            "generate": [m.name for m in catalog.having("generate")],
            "sketch": [m.name for m in catalog.having("sketch")],
            "translate": [m.name for m in catalog.having("translate")],
            "combine": [m.name for m in catalog.having("mix")],
            "edit": [e["model"] for e in editable if e["directions"]] + [r["model"] for r in redesign if r["segmenters"]],
            "pattern": [m.name for m in catalog.having("pattern")],
        }
        return {
            "server": server,
            "models": {name: model.summary() for name, model in catalog.models.items()},
            "missing": catalog.missing,
            "tabs": tabs,
            "edit": {"latent": [e for e in editable if e["directions"]], "redesign": [r for r in redesign if r["segmenters"]]},
            "max_upload_mb": self.max_upload_bytes / MiB,
            "refresh_seconds": self.refresh_seconds,
        }

    def run(self, action: str, settings: dict) -> dict:
        """Runs `action` with the page's settings; returns the result as the page shows it.

        Raises:
            KeyError: no such action.
            actions.SettingsError, uploads.UploadError: a setting or an upload the studio cannot use.
            discovery.ModelMissing: the model is not served (any more).
            ServingError: the server's answer (the models are looked up again after any of `STALE_CODES`).
        """
        function = actions.ACTIONS[action]
        catalog = self.catalog()
        if not catalog.up:
            raise ServingError("UNAVAILABLE", f"the model server ({' '.join(self.target.flags())}) is not answering: {catalog.message}")
        number = next(self._numbers)
        context = actions.Context(self.client, catalog, self.directions, self.target, self.max_upload_bytes, number)
        started = time.perf_counter()
        try:
            result = function(context, settings)
        except ServingError as error:
            if error.code in STALE_CODES:
                self.forget()
            raise
        except ModelMissing:
            self.forget()
            raise
        stem = f"{number:04d}_{action}"
        return {
            "id": number,
            "action": action,
            "title": result.title,
            "images": [{"url": png_data_url(image), "caption": caption, "name": f"{stem}_{i}.png"}
                       for i, (image, caption) in enumerate(zip(result.images, result.captions))],
            "columns": result.columns or len(result.images),
            "download": {"name": f"{stem}.png", "url": png_data_url(result.sheet())},
            "command": result.command,
            "inputs": [{"name": upload.name, "url": upload.data_url()} for upload in result.inputs],
            "seconds": round(time.perf_counter() - started, 3),
        }
