"""Fixtures the dashboards' tests share."""

from __future__ import annotations

import pytest

from tests.analytics.test_dashboards import Story, story_make


@pytest.fixture
def story(db: None) -> Story:
    """The dashboards' story (tests/analytics/test_dashboards.py), recorded and refreshed."""
    return story_make()
