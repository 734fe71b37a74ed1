import numpy as np
import pytest

import genrl  # noqa: F401
from genrl.errors import InputError
from genrl.rollout import collect
from genrl.transitions import Transitions


def test_collect_keeps_true_final_observations_and_round_trips(tmp_path):
    data = collect("genrl/Fork2D-v0", 230, n_envs=2, seed=0)
    assert len(data) == 230 and data.obs.shape == (230, 2) and data.act.shape == (230, 2)
    assert data.truncated.sum() == 4 and not data.terminated.any()  # 50-step episodes, 2 envs, 115 steps each
    # Within an episode next_obs[t] == obs[t+1]; at a truncation it is the final state, not the reset one.
    env0 = np.arange(0, 230, 2)
    cont = ~data.truncated[env0[:-1]]
    np.testing.assert_allclose(data.next_obs[env0[:-1]][cont], data.obs[env0[1:]][cont])
    ends = env0[:-1][~cont]
    assert (np.abs(data.next_obs[ends]) > 0.5).any()  # reset states are ~N(0, 0.1²); final ones have moved
    path = data.save(tmp_path / "fork.npz")
    back = Transitions.load(path)
    np.testing.assert_array_equal(back.next_obs, data.next_obs)
    assert back.meta["env_id"] == "genrl/Fork2D-v0"


def test_collect_with_a_policy_and_discrete_actions():
    data = collect("CartPole-v1", 100, policy=lambda obs: (obs[:, 2] > 0).astype(int), n_envs=2, seed=1)
    assert data.act.shape == (100, 1) and set(np.unique(data.act)) <= {0.0, 1.0}
    assert data.terminated.any()


def test_bad_transitions_are_refused(tmp_path):
    with pytest.raises(InputError, match="NaN"):
        Transitions(np.full((3, 2), np.nan), np.zeros((3, 1)), np.zeros((3, 2)), np.zeros(3), np.zeros(3), np.zeros(3))
    with pytest.raises(InputError, match="rows"):
        Transitions(np.zeros((3, 2)), np.zeros((2, 1)), np.zeros((3, 2)), np.zeros(3), np.zeros(3), np.zeros(3))
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(InputError, match="is not a genrl transitions file"):
        Transitions.load(tmp_path / "bad.npz")


def test_collect_in_worker_processes_matches_in_process_collection():
    a = collect("genrl/Fork2D-v0", 200, n_envs=2, seed=3)
    b = collect("genrl/Fork2D-v0", 200, n_envs=2, seed=3, subproc=True)
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.next_obs, b.next_obs)
