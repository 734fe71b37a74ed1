import pytest
import torch

# Small nets on 2 cores run fastest single-threaded, and tests must not oversubscribe the CPU.
# Set at import so that module-scoped fixtures get it too.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
