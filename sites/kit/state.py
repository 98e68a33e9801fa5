"""What the adapter last sent: a digest per record. Unchanged records are not sent again;
records that vanished from the sources are sent as deletes."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class State:
    path: Path
    sent: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> State:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as error:
            raise ValueError(
                f"{path}: unreadable state ({error}); delete it to resend all"
            ) from None
        return cls(path, dict(raw.get("sent", {})))

    def save(self) -> None:
        # Written whole then renamed: a crash never leaves a half-written state.
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({"version": 1, "sent": self.sent}, indent=0, sort_keys=True),
            encoding="utf-8",
        )
        os.replace(temporary, self.path)
