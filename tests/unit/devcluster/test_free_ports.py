"""Free loopback ports for the components."""

import socket

import pytest

from lakeserve.devcluster.ports import LOOPBACK, free_loopback_ports

pytestmark = pytest.mark.timeout(10)


def test_ports_are_distinct_and_bindable_on_loopback():
    ports = free_loopback_ports(4)
    assert len(set(ports)) == 4
    for port in ports:
        with socket.socket() as probe:
            probe.bind((LOOPBACK, port))  # raises if the port were still held


def test_zero_ports():
    assert free_loopback_ports(0) == []
