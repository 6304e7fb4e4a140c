"""Counting and reporting the files a pipeline had to skip."""

from __future__ import annotations

import dataclasses
import logging

logger = logging.getLogger("shoes_generator.data")


@dataclasses.dataclass
class SkipReport:
    """Files left out of a data set because they could not be read.

    Attributes:
        searched: what was searched, for messages (a folder, a glob, ...).
        skipped: ``(path, reason)`` pairs, in discovery order.
    """

    searched: str
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    _reported: bool = dataclasses.field(default=False, repr=False)

    @property
    def count(self) -> int:
        """How many files were skipped."""
        return len(self.skipped)

    def add(self, path: str, reason: str) -> None:
        """Records one skipped file."""
        self.skipped.append((str(path), reason))

    def report(self, show: int = 5) -> None:
        """Logs one warning naming the count and the first `show` files (only once)."""
        if self._reported or not self.skipped:
            return
        self._reported = True
        examples = "; ".join(f"{path} ({reason})" for path, reason in self.skipped[:show])
        more = f" and {self.count - show} more" if self.count > show else ""
        logger.warning("Skipped %d unreadable file(s) in %s: %s%s", self.count, self.searched, examples, more)

    def as_dict(self, show: int = 20) -> dict:
        """A JSON-ready summary: the count and the first `show` files with reasons."""
        return {
            "skipped": self.count,
            "skipped_files": [{"path": path, "reason": reason} for path, reason in self.skipped[:show]],
        }


def screen_images(paths, report: SkipReport, full: bool = False, workers: int = 8) -> list:
    """Keeps the paths Pillow can open; records the others in `report`.

    Args:
        paths: candidate image files.
        report: where skipped files are counted.
        full: decode every file completely (slow; catches truncated data)
            instead of checking headers.
        workers: reader threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    from shoes_generator.imaging.io import check_image

    paths = list(paths)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reasons = list(pool.map(lambda path: check_image(path, full=full), paths))
    kept = []
    for path, reason in zip(paths, reasons):
        if reason is None:
            kept.append(path)
        else:
            report.add(path, reason)
    return kept
