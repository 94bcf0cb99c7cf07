"""Reads of a sandbox's plant, by subject: ``plant`` (the plant itself), ``alarms``, ``series``, ``pages``
(what its pages show, typed) and ``display`` (how figures read)."""
