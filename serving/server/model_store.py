"""Which models and versions are served: TF Serving's model config, version policies and labels.

The store polls each model's base path for numbered version folders, loads the
versions its policy aspires to (newest first), and unloads an old version only
once a newer aspired one is AVAILABLE, so a corrupt or half-copied version
leaves the previous one serving. A failed version keeps its error for
GetModelStatus and is retried when its files change.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path


from serving.server.errors import ServingError, invalid_argument, not_found
from serving.server.servable import Servable, load_servable
from shoes_generator.publish import MODEL_NAME, check_model_name, versions_on_disk

logger = logging.getLogger("shoes_serve")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One model of the config.

    Args:
        name: the name requests use.
        base_path: the folder holding its numbered versions.
        policy: "latest", "all" or "specific".
        versions: how many latest versions (policy "latest") or which ones ("specific").
        labels: version label -> version.
    """

    name: str
    base_path: Path
    policy: str = "latest"
    versions: tuple[int, ...] = (1,)
    labels: tuple[tuple[str, int], ...] = ()

    def aspired(self, on_disk: list[int]) -> list[int]:
        """The versions to serve among those on disk, newest first."""
        newest_first = sorted(on_disk, reverse=True)
        if self.policy == "all":
            return newest_first
        if self.policy == "specific":
            return [v for v in newest_first if v in self.versions]
        return newest_first[: self.versions[0]]


@dataclasses.dataclass
class VersionState:
    """What became of one version: its state name, the error that stopped it, and the loaded servable."""

    state: str
    error: ServingError | None = None
    servable: Servable | None = None
    fingerprint: tuple = ()


def entries_from_config(config, relative_to: Path) -> list[ModelEntry]:
    """`ModelEntry`s from a ``tensorflow.serving.ModelServerConfig`` message.

    Args:
        config: the parsed ModelServerConfig.
        relative_to: folder that relative base paths are taken from (the config file's).

    Raises:
        ValueError: the config is not a model_config_list, or a name is unusable.
    """
    if config.WhichOneof("config") != "model_config_list":
        raise ValueError("The model config must hold a model_config_list (custom_model_config is not supported).")
    entries = []
    names = [model.name for model in config.model_config_list.config]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"Each model appears once in the config. Repeated: {repeated}")
    for model in config.model_config_list.config:
        if model.model_platform not in ("", "tensorflow"):
            raise ValueError(f"Model {model.name!r}: only model_platform \"tensorflow\" is served. Received: {model.model_platform!r}")
        policy = model.model_version_policy.WhichOneof("policy_choice") or "latest"
        if policy == "latest":
            versions = (model.model_version_policy.latest.num_versions or 1,)
        elif policy == "specific":
            versions = tuple(model.model_version_policy.specific.versions)
        else:
            versions = ()
        base = Path(model.base_path)
        entries.append(check_entry(ModelEntry(model.name, base if base.is_absolute() else relative_to / base, policy, versions, tuple(model.version_labels.items()))))
    return entries


def entries_from_base(model_base: Path) -> list[ModelEntry]:
    """One latest-version `ModelEntry` per model folder under `model_base` (``<base>/<name>/<version>/``)."""
    if not model_base.is_dir():
        raise ValueError(f"--model-base is not a folder: {str(model_base)!r}")
    return [check_entry(ModelEntry(p.name, p)) for p in sorted(model_base.iterdir()) if p.is_dir() and MODEL_NAME.match(p.name)]


def check_entry(entry: ModelEntry) -> ModelEntry:
    check_model_name(entry.name)
    return entry


def fingerprint(path: Path) -> tuple:
    """Names, sizes and modification times of every file under `path`: changes when a copy progresses."""
    return tuple(sorted((str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns) for f in path.rglob("*") if f.is_file()))


class ModelStore:
    """The served models, kept in step with their folders by `poll`.

    Args:
        entries: the models to serve.
        loader: builds a Servable (tests swap it); defaults to `load_servable`.
    """

    def __init__(self, entries: list[ModelEntry], loader=load_servable):
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._entries = {entry.name: entry for entry in entries}
        self._versions: dict[str, dict[int, VersionState]] = {}
        self._loader = loader
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ignored: set[Path] = set()  # folders already warned about as not versions

    # Requests.
    def resolve(self, name: str, version: int | None = None, label: str | None = None) -> Servable:
        """The servable a request's model spec names: a version, a label's version, or the newest available.

        Raises:
            ServingError: NOT_FOUND for an unknown model or version; INVALID_ARGUMENT for an unknown label.
        """
        with self._lock:
            entry = self._entries.get(name)
            versions = self._versions.get(name, {})
            if entry is None:
                raise not_found(f"Servable not found for request: {'Specific' if version is not None else 'Latest'}({name}{f', {version}' if version is not None else ''})")
            if label:
                version = self._label_version(entry, label)
            if version is None:
                available = [v for v, s in versions.items() if s.state == "AVAILABLE"]
                if not available:
                    raise not_found(f"Servable not found for request: Latest({name})")
                version = max(available)
            state = versions.get(version)
            if state is None or state.state != "AVAILABLE":
                raise not_found(f"Servable not found for request: Specific({name}, {version})")
            return state.servable

    def label_version(self, name: str, label: str) -> int:
        """The version a label points at, whatever its state.

        Raises:
            ServingError: NOT_FOUND for an unknown model, INVALID_ARGUMENT for an unknown label.
        """
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise not_found(f"Could not find any versions of model {name}")
            return self._label_version(entry, label)

    @staticmethod
    def _label_version(entry: ModelEntry, label: str) -> int:
        labels = dict(entry.labels)
        if label not in labels:
            raise invalid_argument(f"Unrecognized servable version label: {label}. Labels of {entry.name}: {', '.join(sorted(labels)) or 'none'}")
        return labels[label]

    def status(self, name: str, version: int | None = None) -> list[tuple[int, VersionState]]:
        """``(version, state)`` pairs of a model, newest first.

        Raises:
            ServingError: NOT_FOUND for an unknown model or version.
        """
        with self._lock:
            if name not in self._entries:
                raise not_found(f"Could not find any versions of model {name}")
            versions = dict(self._versions.get(name, {}))
        if version is not None:
            if version not in versions:
                raise not_found(f"Could not find version {version} of model {name}")
            return [(version, versions[version])]
        if not versions:
            raise not_found(f"Could not find any versions of model {name}")
        return sorted(versions.items(), reverse=True)

    def serves(self, name: str) -> bool:
        """Whether `name` is in the config (a lock-free dict lookup: cheap enough for every request)."""
        return name in self._entries

    def model_names(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    # Config and polling.
    def reload(self, entries: list[ModelEntry]) -> None:
        """Serves `entries` from now on (models left out are unloaded) and polls at once."""
        with self._lock:
            self._entries = {entry.name: entry for entry in entries}
        self.poll()

    def poll(self) -> None:
        """One scan: loads aspired versions that are new or changed, unloads what is no longer wanted."""
        with self._poll_lock:
            with self._lock:
                entries = dict(self._entries)
                for gone in set(self._versions) - set(entries):
                    del self._versions[gone]  # Its servables are freed once in-flight requests end.
                    logger.info("unloaded model %s (no longer in the config)", gone)
            for entry in entries.values():
                self._poll_model(entry)

    def _poll_model(self, entry: ModelEntry) -> None:
        on_disk = versions_on_disk(entry.base_path)
        self._warn_ignored(entry, on_disk)
        aspired = entry.aspired(list(on_disk))
        for version in aspired:
            with self._lock:
                current = self._versions.setdefault(entry.name, {}).get(version)
            if current is not None and current.state == "AVAILABLE" and current.servable.path == on_disk[version]:
                continue  # Loaded from this very folder (a reload may have moved the base path).
            marks = fingerprint(on_disk[version])
            if current is not None and current.error is not None and current.fingerprint == marks:
                continue  # Failed before and unchanged since: no retry until the files change.
            self._load(entry.name, version, on_disk[version], marks)
        with self._lock:
            versions = self._versions.get(entry.name, {})
            serving_aspired = any(versions.get(v) and versions[v].state == "AVAILABLE" for v in aspired)
            for version in list(versions):
                if version not in on_disk:
                    gone = versions.pop(version)  # Deleted: nothing left to report.
                    if gone.state == "AVAILABLE":
                        left = [v for v, s in versions.items() if s.state == "AVAILABLE"]
                        logger.warning("%s version %d: its folder disappeared from %s; no longer served (%s)", entry.name, version,
                                       entry.base_path, f"latest now {max(left)}" if left else "no version left to serve")
                elif version not in aspired and serving_aspired and versions[version].state == "AVAILABLE":
                    self._unload(entry.name, version)

    def _warn_ignored(self, entry: ModelEntry, on_disk: dict[int, Path]) -> None:
        """One warning per folder under a base path that is neither hidden nor a version (such as '²' or 'v2')."""
        try:
            folders = [p for p in entry.base_path.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            return
        for folder in set(folders) - set(on_disk.values()) - self._ignored:
            self._ignored.add(folder)
            logger.warning("%s: ignoring folder %r under %s: not a version (versions are ASCII decimal numbers below 2**63)",
                           entry.name, folder.name, entry.base_path)

    def _load(self, name: str, version: int, path: Path, marks: tuple) -> None:
        with self._lock:
            self._versions.setdefault(name, {})[version] = VersionState("LOADING", fingerprint=marks)
        try:
            servable = self._loader(name, version, path)
            state = VersionState("AVAILABLE", servable=servable, fingerprint=marks)
        except ServingError as error:
            logger.error("%s version %d failed to load; other versions keep serving: %s", name, version, error.message)
            state = VersionState("END", error=error, fingerprint=marks)
        with self._lock:
            if name in self._versions:
                self._versions[name][version] = state

    def _unload(self, name: str, version: int) -> None:
        """Marks a replaced version END, as TF Serving lists it (caller holds the lock); its servable is
        freed once in-flight requests end."""
        self._versions[name][version] = VersionState("END", fingerprint=self._versions[name][version].fingerprint)
        logger.info("unloaded %s version %d", name, version)

    def start(self, poll_seconds: float) -> None:
        """Polls now, then every `poll_seconds` in a daemon thread (0 = never again)."""
        self.poll()
        if poll_seconds <= 0:
            return

        def loop():
            while not self._stop.wait(poll_seconds):
                try:
                    self.poll()
                except Exception:  # Keep serving what is loaded; the next poll may succeed.
                    logger.exception("model poll failed")

        self._thread = threading.Thread(target=loop, name="model-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
