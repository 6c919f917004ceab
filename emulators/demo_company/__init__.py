"""The deterministic demo company: a mid-size branded-merchandise maker, generated into the Salesforce and
NetSuite emulator stores, with planted stories for the insight detectors (see ``stories.json``)."""

from .generator import CompanyFiles, generate_company
from .stories import STORY_KINDS

__all__ = ["CompanyFiles", "STORY_KINDS", "generate_company"]
