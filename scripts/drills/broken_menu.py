"""Drill: save a broken ``menus.yaml`` over the live file during calls, then the good one back.
Every worker refuses the broken edit (``/healthz`` names it) and keeps serving the last good
menu: no caller notices.

    .venv/bin/python scripts/drills/broken_menu.py [--callers 24]
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file

from scripts.drills.common import Context, main

BROKEN = """version: 1
settings:
  main_menu: principal
nodes:
  principal:
    type: menu
    prompt: "Olá"
    options:
      "1": nowhere
"""


def save_a_broken_menu(context: Context) -> None:
    good = context.menus_file.read_text()
    context.menus_file.write_text(BROKEN)
    time.sleep(3)  # every worker has looked (MENU_RELOAD_SECONDS is 0.5 in the drill)
    refused = []
    for instance in context.cluster.instances:
        with urllib.request.urlopen(instance.base + "/healthz", timeout=5) as response:
            refused.append(json.load(response)["menu"]["refused_edit"])
    context.menus_file.write_text(good)
    context.notes.append(f"/healthz named the refused edit on {sum(map(bool, refused))} of "
                         f"{len(refused)} instances: {str(refused[0])[:100]}")


if __name__ == "__main__":
    sys.exit(main("a broken menus.yaml saved during calls", save_a_broken_menu))
