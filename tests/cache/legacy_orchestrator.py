"""The serial orchestrator as it was before the cache acted (frozen reference for tests).

``_serve``, ``_make_room`` and ``_keep_spares`` are the project's own code of version 0.4
(spares meeting a full bucket discarded, room made only when the cap is < 1), kept so that
tests compute the "before" records with the unchanged code path.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

from protocols.orchestrator import Orchestrator
from protocols.pair import PairHandle
from protocols.records import RequestRecord
from protocols.workload import Request

__all__ = ["LegacyOrchestrator"]


class LegacyOrchestrator(Orchestrator):
    """:class:`protocols.orchestrator.Orchestrator` with the version-0.4 cache behaviour."""

    def _make_room(self, a: int, b: int) -> None:
        """Evict cached pairs held at ``a`` or ``b`` (oldest first) until an attempt fits."""
        if self.cache is None:
            return
        while self.services.attempt_cap(a, b)[0] < 1:
            if self.cache.evict_one(touching={a, b}) is None:
                return
            self.counts.evicted_for_room += 1

    def _serve(self, request: Request) -> Generator[Any, Any, RequestRecord]:
        sim, services, policy = self.sim, self.services, self.policy
        s, d = request.s, request.d
        start = sim.now_ns
        attempts = rounds = 0
        cap_bound = ""
        pair: PairHandle | None = None
        hit = False
        if self.cache is not None:
            self.cache.expire(start)
            pair = self.cache.take(s, d, now_ns=start)
            hit = pair is not None
        k_cap, _ = services.attempt_cap(s, d)
        if pair is None:
            p_known = services.p_success(s, d)
            for r in range(policy.rounds):
                if self.cache is not None:
                    self.cache.expire(sim.now_ns)
                cap, reason = services.attempt_cap(s, d)
                if cap < 1:
                    self._make_room(s, d)
                    cap, reason = services.attempt_cap(s, d)
                schedule = policy.schedule_for(policy.p_for(p_known), max(cap, 1))
                wish = schedule[r] if r < len(schedule) else 0
                if wish == 0:
                    break
                k = min(wish, cap)
                if k < wish:
                    cap_bound = cap_bound or reason
                    self.counts.rounds_capped += 1
                    self.counts.cap_reasons[reason] = self.counts.cap_reasons.get(reason, 0) + 1
                if k < 1:
                    rounds += 1
                    continue
                skip = getattr(services, "link_rounds", None)
                rest = policy.rounds - r
                if (skip is not None and not policy.online and k == wish and rest > 1
                        and all(w == k for w in schedule[r:policy.rounds])):
                    # the same k for every remaining round: failed rounds may be skipped
                    outcome = yield from skip(s, d, k, rest)
                else:
                    outcome = yield from services.link_round(s, d, k)
                attempts += outcome.attempts
                rounds += outcome.rounds
                if outcome.rounds > 1 and not outcome.pairs:
                    break
                heralded = outcome.pairs
                policy.observe(attempts=outcome.attempts, heralds=len(heralded))
                self.counts.pairs_heralded += len(heralded)
                if heralded:
                    pair = heralded[0]
                    self._keep_spares(heralded[1:])
                    break
            if pair is not None:
                pair.mark("served")
        if pair is None:
            end = sim.now_ns
            return RequestRecord(
                request.request_id, s, d, request.kind, policy.name, False, attempts, rounds,
                False, end - request.arrival_ns, math.nan, math.nan, math.nan,
                request.arrival_ns, start, end, services.n_qpus, k_cap, cap_bound,
            )
        self.counts.pairs_used += 1
        result = yield from services.execute(request, pair)
        end = sim.now_ns
        return RequestRecord(
            request.request_id, s, d, request.kind, policy.name, True, attempts, rounds, hit,
            end - request.arrival_ns, result.pair_age_ns, result.pair_fidelity, result.fidelity,
            request.arrival_ns, start, end, services.n_qpus, k_cap, cap_bound,
        )

    def _keep_spares(self, spares: list[PairHandle]) -> None:
        now = self.sim.now_ns
        for spare in spares:
            kept = False
            if self.cache is not None:
                room = self.cache.capacity - len(self.cache.pairs(spare.node_a, spare.node_b))
                if room > 0:
                    kept = self.cache.put(spare, now_ns=now)
                    if not kept:
                        continue  # the cache discarded it (and freed its memory)
            if not kept:
                spare.mark("discarded")
                self.services.discard_pair(spare, "surplus")
                self.counts.pairs_surplus += 1
