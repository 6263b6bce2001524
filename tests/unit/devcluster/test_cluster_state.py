"""state.json round trip."""

import pytest

from lakeserve.devcluster.processes import ProcessRecord
from lakeserve.devcluster.state import ClusterState, load_state, remove_state, save_state

pytestmark = pytest.mark.timeout(10)


def test_round_trip(tmp_path):
    state = ClusterState(
        processes=[ProcessRecord("etcd", 10, "123", "/x/etcd.log"),
                   ProcessRecord("kube-apiserver", 11, None, "/x/kube-apiserver.log")],
        ports={"etcd": 1, "kube-apiserver": 2}, versions={"kubernetes": "v1.36.3"},
        server="https://127.0.0.1:2", kubeconfig="/x/kubeconfig", ready=True)
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state
    remove_state(tmp_path)
    assert load_state(tmp_path) is None
    remove_state(tmp_path)  # removing twice is fine


def test_no_state_means_not_started(tmp_path):
    assert load_state(tmp_path) is None
