"""Protocol semantics: waits on ports, timers and signals, combinations, stop and reset."""

from modenhub_net import Simulation
from modenhub_net.components import ClassicalChannel, Component, FixedDelayModel, Message
from modenhub_net.protocol import Protocol, Signals


class _Recorder(Protocol):
    def __init__(self, sim, port, *, timeout_ns):
        super().__init__(sim, name="recorder")
        self.port = port
        self.timeout_ns = timeout_ns
        self.log = []

    def run(self):
        while True:
            arrival = self.await_port_input(self.port)
            timer = self.await_timer(self.timeout_ns)
            fired = yield arrival | timer
            if arrival in fired:
                self.log.append(("msg", self.sim.now_ns, self.port.rx_input().items[0]))
            else:
                self.log.append(("timeout", self.sim.now_ns))


def _setup(delay_ns=10.0):
    sim = Simulation()
    src = Component("src", sim=sim, port_names=["out"])
    dst = Component("dst", sim=sim, port_names=["in"])
    ch = ClassicalChannel("ch", sim=sim, delay_model=FixedDelayModel(delay_ns))
    src.ports["out"].connect(ch.ports["send"])
    ch.ports["recv"].connect(dst.ports["in"])
    return sim, src, dst


def _send_at(sim, port, t_ns, value):
    def proc():
        yield sim.timeout(t_ns)
        port.tx_output(Message((value,)))

    sim.process(proc())


def test_any_of_port_input_or_timer():
    sim, src, dst = _setup()
    rec = _Recorder(sim, dst.ports["in"], timeout_ns=100.0).start()
    _send_at(sim, src.ports["out"], 5.0, "a")
    sim.run(until_ns=250.0)
    assert rec.log == [("msg", 15.0, "a"), ("timeout", 115.0), ("timeout", 215.0)]


def test_all_of_waits_for_both():
    sim, src, dst = _setup(delay_ns=30.0)
    done = []

    class Both(Protocol):
        def run(self):
            yield self.await_port_input(dst.ports["in"]) & self.await_timer(10.0)
            done.append(self.sim.now_ns)

    Both(sim, name="both").start()
    _send_at(sim, src.ports["out"], 0.0, "x")
    sim.run()
    assert done == [30.0]


def test_signals_between_protocols_and_finished_result():
    sim = Simulation()

    class Producer(Protocol):
        def run(self):
            yield self.await_timer(3.0)
            self.send_signal(Signals.SUCCESS, "pair-ready")
            return 42

    producer = Producer(sim, name="producer")
    seen = []

    class Consumer(Protocol):
        def run(self):
            result = yield self.await_signal(producer, Signals.SUCCESS)
            seen.append((self.sim.now_ns, result))

    Consumer(sim, name="consumer").start()
    producer.start()
    sim.run()
    assert seen == [(3.0, "pair-ready")]
    assert producer.get_signal_result(Signals.FINISHED) == 42
    assert not producer.is_running


def test_stop_cancels_pending_waits_and_keeps_messages():
    sim, src, dst = _setup()
    rec = _Recorder(sim, dst.ports["in"], timeout_ns=1000.0).start()
    _send_at(sim, src.ports["out"], 50.0, "late")

    def stopper():
        yield sim.timeout(20.0)
        rec.stop()

    sim.process(stopper())
    sim.run(until_ns=5000.0)
    assert rec.log == []
    assert not rec.is_running
    assert dst.ports["in"]._waiters == []
    assert dst.ports["in"].input_queue_length == 1  # the message is kept for a restart


def test_protocol_can_stop_itself_and_reset_restarts():
    sim = Simulation()
    runs = []

    class SelfStopping(Protocol):
        def run(self):
            runs.append(self.sim.now_ns)
            yield self.await_timer(5.0)
            self.stop()
            runs.append("never")

    proto = SelfStopping(sim, name="s").start()
    sim.run()
    assert runs == [0.0] and not proto.is_running
    proto.reset()
    sim.run()
    assert runs == [0.0, 5.0]


def test_subprotocols_start_and_stop_with_parent():
    sim = Simulation()
    ticks = []

    class Ticker(Protocol):
        def run(self):
            while True:
                yield self.await_timer(1.0)
                ticks.append(self.sim.now_ns)

    parent = Protocol(sim, name="parent")
    child = parent.add_subprotocol(Ticker(sim, name="child"))
    parent.start()
    assert child.is_running
    sim.run(until_ns=3.5)
    parent.stop()
    sim.run(until_ns=10.0)
    assert ticks == [1.0, 2.0, 3.0]
    assert not child.is_running


def test_same_seed_gives_identical_event_trace():
    def trace(seed):
        sim = Simulation(seed=seed, trace=True)
        src = Component("src", sim=sim, port_names=["out"])
        dst = Component("dst", sim=sim, port_names=["in"])

        class Jitter:
            def delay_ns(self, *, rng, message):
                return float(rng.exponential(10.0))

        ch = ClassicalChannel("ch", sim=sim, delay_model=Jitter())
        src.ports["out"].connect(ch.ports["send"])
        ch.ports["recv"].connect(dst.ports["in"])
        for k in range(50):
            src.ports["out"].tx_output(Message((k,), meta={"header": str(k)}))
        sim.run()
        return sim.trace_log

    assert trace(7) == trace(7)
    assert trace(7) != trace(8)
