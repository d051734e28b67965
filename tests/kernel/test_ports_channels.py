"""Ports, channels, delay and loss models, nodes."""

import math

import pytest

from modenhub_net import Simulation, UserInputError
from modenhub_net.components import (
    ClassicalChannel,
    Component,
    FixedDelayModel,
    FixedLossModel,
    LengthDelayModel,
    Message,
    Node,
    QuantumChannel,
)


def _linked(sim, *, delay_ns=0.0, loss=None, cls=ClassicalChannel):
    a = Component("a", sim=sim, port_names=["out"])
    b = Component("b", sim=sim, port_names=["in"])
    ch = cls("ch", sim=sim, delay_model=FixedDelayModel(delay_ns), loss_model=loss)
    a.ports["out"].connect(ch.ports["send"])
    ch.ports["recv"].connect(b.ports["in"])
    return a, b, ch


def test_channel_delivers_after_its_delay_in_send_order():
    sim = Simulation()
    a, b, _ = _linked(sim, delay_ns=25.0)
    arrivals = []
    b.ports["in"].bind_input_handler(lambda m: arrivals.append((sim.now_ns, m.items[0])))
    for k in range(5):
        a.ports["out"].tx_output(Message((k,)))
    sim.run()
    assert arrivals == [(25.0, k) for k in range(5)]


def test_simultaneous_events_resolve_in_scheduling_order():
    sim = Simulation()
    order = []
    for k in range(10):
        ev = sim.timeout(7.0)
        ev.callbacks.append(lambda _e, k=k: order.append(k))
    sim.run()
    assert order == list(range(10))


def test_length_delay_model_fibre_speed():
    model = LengthDelayModel(10.0)  # 10 km at 200,000 km/s = 50 us
    assert model.delay_ns(rng=None, message=None) == pytest.approx(50_000.0)
    with pytest.raises(UserInputError, match="length_km"):
        LengthDelayModel(-1.0)
    with pytest.raises(UserInputError, match="speed_km_per_s"):
        LengthDelayModel(1.0, speed_km_per_s=0.0)


def test_classical_loss_frequency_matches_probability():
    sim = Simulation(seed=42)
    p_loss, n = 0.3, 20_000
    a, b, ch = _linked(sim, loss=FixedLossModel(p_loss))
    for k in range(n):
        a.ports["out"].tx_output(Message((k,)))
    sim.run()
    received = b.ports["in"].input_queue_length
    sigma = math.sqrt(n * p_loss * (1 - p_loss))
    assert abs((n - received) - n * p_loss) < 4.5 * sigma
    assert ch.messages_lost == n - received


def test_quantum_channel_loses_qubits_and_keeps_message_shape():
    from modenhub_net.qubits import create_qubits

    sim = Simulation(seed=1)
    a, b, ch = _linked(sim, delay_ns=5.0, loss=FixedLossModel(1.0), cls=QuantumChannel)
    q = create_qubits(2)
    a.ports["out"].tx_output(Message(tuple(q)))
    sim.run()
    msg = b.ports["in"].rx_input()
    assert msg.items == (None, None)
    assert all(qubit.is_lost and qubit.state is None for qubit in q)


def test_rx_input_is_fifo_and_unconnected_output_is_dropped():
    sim = Simulation(trace=True)
    a = Component("a", sim=sim, port_names=["x"])
    a.ports["x"].tx_output(Message(("lost",)))
    assert any("not connected" in what for _t, _s, what in sim.trace_log)
    b = Component("b", sim=sim, port_names=["y"])
    b.ports["y"].tx_input(Message((1,)))
    b.ports["y"].tx_input(Message((2,)))
    assert b.ports["y"].rx_input().items == (1,)
    assert b.ports["y"].rx_input().items == (2,)
    assert b.ports["y"].rx_input() is None


def test_port_connection_rules():
    sim = Simulation()
    a = Component("a", sim=sim, port_names=["p", "q"])
    b = Component("b", sim=sim, port_names=["p"])
    a.ports["p"].connect(b.ports["p"])
    with pytest.raises(ValueError, match="already connected"):
        a.ports["q"].connect(b.ports["p"])
    with pytest.raises(ValueError, match="itself"):
        a.ports["q"].connect(a.ports["q"])
    a.ports["p"].disconnect()
    a.ports["q"].connect(b.ports["p"])


def test_node_forwards_ports_both_ways_and_names_subcomponents():
    sim = Simulation()
    node = Node("alice", sim=sim)
    radio = node.add_subcomponent(Component("radio", sim=sim, port_names=["io"]))
    node.forward_port("ext", radio.ports["io"])
    peer = Component("bob", sim=sim, port_names=["io"])
    node.ports["ext"].connect(peer.ports["io"])
    peer.ports["io"].tx_output(Message(("ping",)))
    assert radio.ports["io"].rx_input().items == ("ping",)
    radio.ports["io"].tx_output(Message(("pong",)))
    assert peer.ports["io"].rx_input().items == ("pong",)
    assert radio.full_name == "alice.radio"
    assert radio.ports["io"].full_name == "alice.radio.io"
    with pytest.raises(ValueError, match="already has a sub-component"):
        node.add_subcomponent(Component("radio", sim=sim))


def test_component_names_are_validated():
    with pytest.raises(ValueError, match="name"):
        Component("a.b", sim=Simulation())


def test_connection_is_full_duplex_with_per_direction_delays():
    from modenhub_net.components import Connection

    sim = Simulation()
    a = Component("a", sim=sim, port_names=["io"])
    b = Component("b", sim=sim, port_names=["io"])
    link = Connection(
        "link",
        sim=sim,
        channel_ab=ClassicalChannel("ab", sim=sim, delay_model=FixedDelayModel(3.0)),
        channel_ba=ClassicalChannel("ba", sim=sim, delay_model=FixedDelayModel(8.0)),
    )
    a.ports["io"].connect(link.ports["A"])
    b.ports["io"].connect(link.ports["B"])
    got = []
    a.ports["io"].bind_input_handler(lambda m: got.append(("a", sim.now_ns, m.items[0])))
    b.ports["io"].bind_input_handler(lambda m: got.append(("b", sim.now_ns, m.items[0])))
    a.ports["io"].tx_output(Message(("to-b",)))
    b.ports["io"].tx_output(Message(("to-a",)))
    sim.run()
    assert got == [("b", 3.0, "to-b"), ("a", 8.0, "to-a")]
    assert link.channel_ab.full_name == "link.ab"
