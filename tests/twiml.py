"""Reading TwiML in tests: parse the document and find the verbs a caller would meet."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass
class Doc:
    root: ET.Element
    raw: str
    # What the caller heard in documents that only redirected here (see ``is_redirect_only``).
    heard_before: str = ""

    @classmethod
    def parse(cls, body: bytes | str) -> Doc:
        raw = body.decode() if isinstance(body, bytes) else body
        root = ET.fromstring(raw)
        assert root.tag == "Response", raw
        return cls(root, raw)

    @property
    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def first(self, tag: str) -> ET.Element | None:
        return next(iter(self.root.iter(tag)), None)

    def spoken(self) -> str:
        own = " ".join((say.text or "") for say in self.root.iter("Say"))
        return f"{self.heard_before} {own}".strip()

    @property
    def is_redirect_only(self) -> bool:
        """Speech then a Redirect: the provider fetches the next document straight away."""
        return self.verbs[-1:] == ["Redirect"] and not {"Gather", "Dial", "Record"} & set(
            self.verbs)

    @property
    def gather(self) -> ET.Element:
        gather = self.first("Gather")
        assert gather is not None, self.raw
        return gather

    @property
    def dial(self) -> ET.Element:
        dial = self.first("Dial")
        assert dial is not None, self.raw
        return dial

    def next_url(self) -> str:
        """Where the provider goes next: Gather action, Dial/Record action, or Redirect."""
        for tag in ("Gather", "Dial", "Record"):
            element = self.first(tag)
            if element is not None:
                return element.attrib["action"]
        redirect = self.first("Redirect")
        assert redirect is not None and redirect.text, self.raw
        return redirect.text

    def dial_target(self) -> str:
        dial = self.dial
        noun = next(iter(dial))
        return (noun.text or "").strip()
