"""Fixtures for every test: torch's thread count is put back after each test that changes it
(`cli.main` sets it from --threads in this process)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def restore_torch_threads():
    """torch's intra-op thread count as it was before the test."""
    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)


@pytest.fixture
def one_torch_thread():
    """One torch thread for this test (put back afterwards by restore_torch_threads)."""
    torch.set_num_threads(1)
