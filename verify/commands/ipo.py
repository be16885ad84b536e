"""``prefdyn ipo``: ``prefdyn optimum --loss ipo`` (the one-shot IPO optimum, checked by direct minimisation)."""

from __future__ import annotations

import argparse

from verify.commands.optimum import register_alias


def register(sub: argparse._SubParsersAction) -> None:
    register_alias(sub, "ipo")
