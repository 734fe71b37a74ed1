import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread_and_seed():
    # Small nets on 2 cores run fastest single-threaded, and tests must not fight each other.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
