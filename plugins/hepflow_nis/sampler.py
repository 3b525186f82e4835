"""The ``nis`` sampler: neural importance sampling with normalizing flows on [0, 1]^dim.

Each ``adapt`` call learns from one evaluated batch: one gradient step on the fresh points,
then ``reuse_steps`` steps on minibatches from a replay buffer of earlier points, each weighted
by the density it was drawn from (sample reuse, as ZüNIS and MadNIS do), so the flow trains
many steps per integrand evaluation. With ``adapt = false`` (or ``--freeze``) the flow is
frozen and the integration is a plain importance-sampling estimate with an honest error.

Multi-channel integrands (``hepflow.channels``) get one flow per channel; points are drawn
per channel with a learned allocation and enter the accumulators as strata.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from hepflow.channel_book import ChannelBook
from hepflow.channels import CHANNEL_KEY, Channel, channel_priors
from hepflow.errors import HepflowError
from hepflow.events import PointBatch, WeightedBatch
from hepflow.flows import Flow, PowerEdges, coupling_flow
from hepflow.strata import stratified_uniform

from .buffer import ReplayBuffer
from .losses import LOSSES, log_target, reverse_kl_reinforce, reverse_kl_reparam

__all__ = ["NISSampler"]

STATE_FORMAT = "hepflow-nis/1"
LOG_Q = "nis_log_q"  # extras column: log density of each point under its channel's flow
TRAINING_LOSSES = (*LOSSES, "adaptive", "adaptive_moment")
POWER_EDGES_LR_SCALE = 10.0  # Adam moves a parameter about lr per step: 3e-3 is slow for these
SURVEY_MODES = ("flow", "flat", "adaptive")


class NISSampler:
    """Neural importance sampling (Müller et al. 2019; ZüNIS; MadNIS) for any integrand.

    Args:
        dim: dimension of the unit hypercube.
        device: where the flows, points and training live.
        channels: the integrand's channels (passed by the pipeline when it declares them);
            one flow each.
        transform, bins, layers, hidden: the coupling flow (``hepflow.flows.coupling_flow``):
            "rqs" (rational-quadratic splines), "linear" or "quadratic" (piecewise).
        power_edges: a ``PowerEdges`` (Kumaraswamy) layer at the flows' latent end, two
            learned exponents per axis, so that the density can vanish or diverge as a power
            at each face of the cube (soft and collinear limits, thresholds), where splines
            alone only go linearly.
        fourier: Fourier features for the coupling networks: each sees sin and cos of
            2 pi k x, k = 1..fourier, beside x (``hepflow.flows.FourierFeatures``), so that
            the flows can follow targets that oscillate across the cube (0: x alone).
        fourier_max_inputs: only the networks that see at most this many coordinates get the
            features (None: all). With one coordinate they only speed up learning; with
            several they can fit the sample's noise across coordinates (``coupling_flow``).
        compile: run each flow as one ``torch.compile`` graph (``hepflow.flows.compiled``):
            a training step in 0.65-1.0 of the eager time with the splines' CPU kernels
            (numba installed; about 0.6 of it with their torch code), after a one-off
            compilation of 17-77 s (more on torch's first, uncached run): made up after
            4,000 (d = 16) to 32,000 (d = 4) steps, and never at d = 2. Needs a C++ compiler
            (Triton on a GPU), else it warns and runs eagerly. Not saved with the state: a
            compiled sampler's state loads into an eager one, which then draws the same
            points to about 1e-6.
        stratify: draw each channel's latent points in equal hypercubes, the same number in
            each (``hepflow.strata``; VEGAS+'s stratification, in the flows' latent space).
            The weights stay f/q; the error loses the variance between hypercubes.
        loss: "variance" (what integration needs), "moment" (E_q[(f/q)^moment_order]: keeps
            the largest weights down, what unweighting needs), "guarded_moment" (the moment on
            minibatches whose weights can estimate it, else the variance), "forward_kl"
            (robust from a flat start), "reinforce" (reverse KL, score function), "adaptive":
            forward KL until the relative standard deviation of the batch weights falls below
            ``switch_at``, then variance; or "adaptive_moment": the same, then guarded_moment
            once that spread falls below ``moment_at``.
        moment_order: the order of the moment losses (> 2; 2 would be the variance).
        moment_at: where "adaptive_moment" leaves the variance for the guarded moment. A high
            moment follows the largest weights, so it may only start once the flow has found
            every peak: at 0.5, with Adam restarted at each change of loss, camel4's humps of
            width 0.01 are kept on every seed tried; at 0.3 the sinusoidal target never
            reached it (BENCHMARKS.md, "adaptive_moment" and "moment_at 0.5").
        lr: Adam learning rate.
        lr_half_life: optimiser steps over which the learning rate halves (exponential decay,
            None: constant); a decaying rate lets a fixed training budget end on fine steps.
        minibatch: points per gradient step (None: the whole fresh batch).
        reuse_steps: extra gradient steps per adapt on minibatches from the replay buffer.
        buffer_size: points kept for reuse (0: no reuse).
        anneal: training batches over which the target is annealed: the flows learn |f|^beta,
            beta rising geometrically from ``anneal_from`` to 1 over the first ``anneal``
            batches (forward KL meanwhile). A small beta flattens the exponential gaps between
            peaks, so every peak is found before the target sharpens (0: no annealing).
            log f at a peak grows with the dimension, and so does the sharpening per step in
            beta: the benchmarks anneal 25 batches per 8 dimensions, at least 25.
        anneal_from: the first exponent beta.
        survey: "flow" samples from the flow from the start; "flat" samples uniformly while
            adapting and the flow only when frozen; "adaptive" samples uniformly until the
            flow's estimated variance beats the flat one (ZüNIS's adaptive strategy).
        ema: decay per optimiser step of an exponential moving average of the flows'
            parameters (Polyak averaging; 0: off). Points are drawn from the averaged flows,
            which smooths out the optimiser's step-to-step jitter; training steps the live ones.
        weight_decay: decoupled weight decay per unit learning rate (AdamW; 0: plain Adam) on
            the networks' weight matrices. It pulls each coupling toward its unconditional
            spline, so a flow trained many replay steps on a small buffer does not sharpen on
            the sample's fluctuations, while the one-dimensional shapes stay free.
        adapt: False freezes the sampler.
        seed: seeds the network initialisation and the replay draws.
        channel_damping, channel_min_fraction, channel_drop_threshold: see ``ChannelBook``.
    """

    def __init__(
        self,
        dim: int,
        device: str | torch.device = "cpu",
        channels: Sequence[Channel] | None = None,
        transform: str = "rqs",
        bins: int = 10,
        layers: int | None = None,
        hidden: Sequence[int] = (64, 64),
        power_edges: bool = False,
        fourier: int = 0,
        fourier_max_inputs: int | None = None,
        compile: bool = False,
        stratify: bool = True,
        loss: str = "adaptive",
        moment_order: float = 4.0,
        switch_at: float = 1.0,
        moment_at: float = 0.5,
        lr: float = 3e-3,
        lr_half_life: float | None = None,
        minibatch: int | None = None,
        reuse_steps: int = 4,
        buffer_size: int = 100_000,
        anneal: int = 0,
        anneal_from: float = 1e-3,
        survey: str = "flow",
        ema: float = 0.0,
        weight_decay: float = 0.0,
        adapt: bool = True,
        seed: int = 0,
        channel_damping: float = 0.5,
        channel_min_fraction: float = 0.02,
        channel_drop_threshold: float = 0.0,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        _choice("loss", loss, TRAINING_LOSSES)
        _choice("survey", survey, SURVEY_MODES)
        self.dim = dim
        self.device = torch.device(device)
        self.channels = list(channels) if channels else None
        priors = channel_priors(self.channels) if self.channels else [1.0]
        self.options = {
            "transform": transform,
            "bins": int(bins),
            "layers": layers,
            "hidden": tuple(int(h) for h in hidden),
            "power_edges": power_edges,
            "fourier": fourier,
            "fourier_max_inputs": fourier_max_inputs,
        }
        self.loss = loss
        self.moment_order = _positive("moment_order", moment_order)
        if self.moment_order <= 2:
            raise ValueError(
                f"moment_order must be > 2 (2 is loss='variance'), got {moment_order!r}"
            )
        self.switch_at = _positive("switch_at", switch_at)
        self.moment_at = _positive("moment_at", moment_at)
        self.lr = _positive("lr", lr)
        self.lr_half_life = (
            None if lr_half_life is None else _positive("lr_half_life", lr_half_life)
        )
        self.minibatch = None if minibatch is None else int(_positive("minibatch", minibatch))
        self.reuse_steps = int(reuse_steps)
        if self.reuse_steps < 0:
            raise ValueError(f"reuse_steps must be >= 0, got {reuse_steps!r}")
        self.anneal = int(anneal)
        if self.anneal < 0:
            raise ValueError(f"anneal must be >= 0 training batches, got {anneal!r}")
        self.anneal_from = _positive("anneal_from", anneal_from)
        if self.anneal_from > 1:
            raise ValueError(f"anneal_from must be in (0, 1], got {anneal_from!r}")
        self.survey = survey
        if not isinstance(stratify, bool):
            raise ValueError(f"stratify must be true or false, got {stratify!r}")
        self.stratify = stratify
        if isinstance(ema, bool) or not isinstance(ema, int | float) or not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be a decay in [0, 1) (0: off), got {ema!r}")
        self.ema = float(ema)
        if (
            isinstance(weight_decay, bool)
            or not isinstance(weight_decay, int | float)
            or not weight_decay >= 0
        ):
            raise ValueError(f"weight_decay must be a number >= 0 (0: off), got {weight_decay!r}")
        self.weight_decay = float(weight_decay)
        self.adapting = bool(adapt)
        self.seed = int(seed)
        if not isinstance(compile, bool):
            raise ValueError(f"compile must be true or false, got {compile!r}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.flows = torch.nn.ModuleList(
                coupling_flow(dim, **self.options, compile=compile) for _ in priors
            ).to(self.device)
        self.optimizer = _adam(self.flows, self.lr, self.weight_decay)
        #: the flows points are drawn from: the live ones, or their moving average
        self.averaged = copy.deepcopy(self.flows).requires_grad_(False) if self.ema else None
        # (averaged, live) parameter lists, walked once: walking the modules cost ~1% a step
        self._ema_pairs = (
            None
            if self.averaged is None
            else (list(self.averaged.parameters()), list(self.flows.parameters()))
        )
        self.book = ChannelBook(
            priors,
            damping=channel_damping,
            min_fraction=channel_min_fraction,
            drop_threshold=channel_drop_threshold,
        )
        self.buffer = ReplayBuffer(int(buffer_size))
        self._replay_generator = torch.Generator(device=self.device).manual_seed(self.seed + 1)
        self.flat = survey != "flow"  # sampling uniformly until switched (or frozen)
        self.steps = 0
        self.batches = 0  # evaluated batches trained on (the annealing clock)
        self.n_nonfinite = 0  # evaluated points excluded from training: f was NaN or inf
        self.last_loss = math.nan
        self.last_rel_std = math.nan
        self.stage: str | None = None  # the loss the last batch trained on
        self.history: list[dict[str, float]] = []

    @property
    def flow(self) -> Flow:
        """The flow of a single-channel sampler."""
        if len(self.flows) != 1:
            raise HepflowError(f"this sampler has {len(self.flows)} channel flows; use .flows")
        return self.flows[0]

    @property
    def drawing_flows(self) -> torch.nn.ModuleList:
        """The flows ``sample`` draws from (the averaged ones when ``ema`` is on)."""
        return self.flows if self.averaged is None else self.averaged

    @property
    def channel_weights(self) -> list[float]:
        """Each channel's learned share of the integral (starts at the priors)."""
        return self.book.weights.tolist()

    # -- sampling -----------------------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator) -> PointBatch:
        """About n points: n_c per channel from the allocation, q = (n_c / N) q_c(x); with
        ``stratify`` each channel's hypercubes are strata of their own."""
        xs, log_qs, labels, strata = [], [], [], []
        uniform = self.flat and self.adapting
        with torch.no_grad():
            for c, n_c in enumerate(self.book.split(int(n))):
                if n_c == 0:
                    continue
                z, cube = self._latent(n_c, generator)
                if uniform:
                    x, log_q = z, torch.zeros(len(z), dtype=torch.float64, device=self.device)
                else:
                    x, log_det = self.drawing_flows[c](z)
                    log_q = -log_det
                xs.append(x)
                log_qs.append(log_q)
                labels.append(torch.full((len(z),), c, dtype=torch.int64, device=self.device))
                if cube is not None:
                    strata.append(cube + c * (n + 1))  # at most n + 1 labels per channel
        x, log_q, channel = torch.cat(xs), torch.cat(log_qs), torch.cat(labels)
        counts = torch.bincount(channel, minlength=len(self.flows)).to(torch.float64)
        share = counts[channel] / len(x)
        extras = {LOG_Q: log_q}
        if self.channels is not None:
            extras[CHANNEL_KEY] = channel
        stratum = torch.cat(strata) if strata else (channel if len(self.flows) > 1 else None)
        return PointBatch(x=x, q=torch.exp(log_q) * share, stratum=stratum, extras=extras)

    def _latent(
        self, n: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n uniform latent points (n - 1 when stratified with a lone leftover) and their
        hypercube labels (None unstratified)."""
        if self.stratify:
            return stratified_uniform(n, self.dim, generator, self.device)
        z = torch.rand(n, self.dim, generator=generator, device=self.device, dtype=torch.float64)
        return z, None

    # -- training on evaluated points ---------------------------------------------------------
    def adapt(self, batch: WeightedBatch) -> None:
        """Train on one evaluated batch drawn by this sampler, then on replayed points."""
        if not self.adapting:
            return
        if LOG_Q not in batch.extras:
            raise HepflowError(
                "nis.adapt needs points drawn by this sampler (their extras carry the flow "
                "density); got a batch from another sampler"
            )
        channel = batch.extras.get(CHANNEL_KEY)
        if channel is None:
            channel = torch.zeros(len(batch), dtype=torch.int64, device=self.device)
        f = batch.f.to(torch.float64)
        good = torch.isfinite(f)
        n_bad = int((~good).sum())
        if n_bad:  # excluded and counted: never reach the weights or the gradients
            self.n_nonfinite += n_bad
        x, log_q_s, f, channel = batch.x[good], batch.extras[LOG_Q][good], f[good], channel[good]
        if len(f) == 0 or not bool((f != 0).any()):
            return
        w = f * torch.exp(-log_q_s)
        self.last_rel_std = float(w.std() / w.abs().mean()) if len(w) > 1 else math.nan
        if len(self.flows) > 1:
            self.book.update(channel, w)
        columns = {"x": x, "log_q_sample": log_q_s, "f": f, "channel": channel}
        self.buffer.add(**columns)
        loss_name, beta = self._current_loss(), self.beta
        if loss_name != self.stage:
            self._restart_moments()
            self.stage = loss_name
        for part in self._minibatches(columns):
            self.last_loss = self._step(part, loss_name, beta)
        for _ in range(self.reuse_steps if len(self.buffer) else 0):
            part = self.buffer.sample(self.minibatch or len(f), self._replay_generator)
            self.last_loss = self._step(part, loss_name, beta)
        self.batches += 1
        if self.flat and self.survey == "adaptive":
            self._maybe_leave_flat(columns)
        self.history.append(
            {"step": self.steps, "loss": self.last_loss, "rel_std": self.last_rel_std}
        )

    @property
    def beta(self) -> float:
        """The exponent of the annealed target |f|^beta for the next batch (1: the integrand)."""
        if self.batches >= self.anneal:
            return 1.0
        return self.anneal_from ** (1.0 - self.batches / self.anneal)

    def _current_loss(self) -> str:
        if self.beta < 1.0:
            return "forward_kl"
        if not self.loss.startswith("adaptive"):
            return self.loss
        if not self.last_rel_std < self.switch_at:
            return "forward_kl"
        if self.loss == "adaptive_moment" and self.last_rel_std < self.moment_at:
            return "guarded_moment"
        return "variance"

    def _restart_moments(self) -> None:
        """Forget Adam's gradient averages when the loss changes (forward KL -> variance ->
        moment, and back): the old loss's squared-gradient scale would otherwise size the new
        loss's first steps, and those steps threw a flow off a narrow peak, which it never
        found again (camel4 at width 0.01: results 0.50 and 0.14 for 1; BENCHMARKS.md,
        "Loss switches restart Adam")."""
        self.optimizer.state.clear()

    def _minibatches(self, columns: dict[str, torch.Tensor]):
        n = columns["f"].shape[0]
        step = self.minibatch or n
        for start in range(0, n, step):
            yield {k: v[start : start + step] for k, v in columns.items()}

    def _log_prob(
        self, x: torch.Tensor, channel: torch.Tensor, flows: torch.nn.ModuleList | None = None
    ) -> torch.Tensor:
        """Each point's log density under its own channel's flow (with the graph), of the live
        ``flows`` unless others (the drawing ones) are given."""
        flows = self.flows if flows is None else flows
        if len(flows) == 1:
            return flows[0].log_prob(x)
        log_q = torch.empty(x.shape[0], dtype=torch.float64, device=x.device)
        for c in torch.unique(channel).tolist():
            mask = channel == c
            log_q = log_q.index_put((mask.nonzero()[:, 0],), flows[c].log_prob(x[mask]))
        return log_q

    def _step(self, part: dict[str, torch.Tensor], loss_name: str, beta: float = 1.0) -> float:
        loss_fn = LOSSES[loss_name]
        if loss_name in ("moment", "guarded_moment"):
            loss_fn = functools.partial(loss_fn, order=self.moment_order)
        log_q = self._log_prob(part["x"], part["channel"])
        f = part["f"] if beta == 1.0 else part["f"].abs() ** beta
        if len(self.flows) == 1:
            loss = loss_fn(log_q, part["log_q_sample"], f)
        else:  # each channel's flow learns its own term, normalised on its own
            loss = sum(
                loss_fn(log_q[m], part["log_q_sample"][m], f[m])
                for m in (part["channel"] == c for c in torch.unique(part["channel"]).tolist())
                if bool((f[m] != 0).any())
            )
        return self._apply(loss)

    def _apply(self, loss: torch.Tensor) -> float:
        if not torch.is_tensor(loss) or not torch.isfinite(loss):
            return math.nan  # nothing learnable in this minibatch (or a degenerate one)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self._ema_pairs is not None:  # one fused update, as torch.optim.swa_utils does
            with torch.no_grad():
                torch._foreach_lerp_(*self._ema_pairs, 1.0 - self.ema)
        self.steps += 1
        if self.lr_half_life is not None:
            for group in self.optimizer.param_groups:
                scale = group.get("lr_scale", 1.0)
                group["lr"] = scale * self.lr * 0.5 ** (self.steps / self.lr_half_life)
        return float(loss.detach())

    def _maybe_leave_flat(self, columns: dict[str, torch.Tensor]) -> None:
        """Switch to flow sampling once E_q[(f/q)^2] estimated on the flat points beats flat's,
        for the flows that would then draw the points."""
        with torch.no_grad():
            f2 = columns["f"] ** 2 * torch.exp(-columns["log_q_sample"])
            log_q = self._log_prob(columns["x"], columns["channel"], self.drawing_flows)
            flow_m2 = (f2 * torch.exp(-log_q)).mean()
            if bool(flow_m2 < f2.mean()):
                self.flat = False

    # -- training with the integrand in the loop ----------------------------------------------
    def train(
        self,
        integrand: Any,
        steps: int,
        batch_size: int,
        generator: torch.Generator,
        *,
        estimator: str = "reinforce",
        log_density: bool = False,
    ) -> list[float]:
        """Minimise reverse KL(q || p), p proportional to the integrand, with fresh samples.

        ``estimator="reinforce"`` never differentiates the integrand (it is called under
        no_grad): the right choice for expensive or non-differentiable targets.
        ``"reparam"`` backpropagates through x = T(z) and the integrand, which must then be
        differentiable in torch. ``log_density=True``: the integrand returns log p (e.g. minus
        a lattice action) instead of p. Non-finite values are excluded and counted.
        """
        _choice("estimator", estimator, ("reinforce", "reparam"))
        if len(self.flows) != 1:
            raise HepflowError("train() is for single-channel samplers; use adapt() per batch")
        flow, losses = self.flow, []
        for _ in range(int(steps)):
            if estimator == "reinforce":
                with torch.no_grad():
                    x, log_q_s = flow.sample(batch_size, generator=generator)
                    value = integrand(x)
                keep = torch.isfinite(value)
                self.n_nonfinite += int((~keep).sum())
                x, log_q_s, value = x[keep], log_q_s[keep], value[keep]
                log_f = value if log_density else log_target(value)
                loss = reverse_kl_reinforce(flow.log_prob(x), log_q_s, value, log_f)
            else:
                x, log_q = flow.sample(batch_size, generator=generator)
                value = integrand(x)
                keep = torch.isfinite(value)
                self.n_nonfinite += int((~keep).sum())
                log_f = value if log_density else torch.log(value.abs())
                loss = reverse_kl_reparam(log_q[keep], log_f[keep])
            losses.append(self._apply(loss))
        self.last_loss = losses[-1] if losses else math.nan
        self.flat = False
        return losses

    def pretrain(
        self, sampler: Any, steps: int, batch_size: int, generator: torch.Generator
    ) -> list[float]:
        """Fit every flow to another sampler's density (e.g. a trained VEGAS grid) by maximum
        likelihood on its points: no integrand evaluations needed."""
        losses = []
        for _ in range(int(steps)):
            x = sampler.sample(batch_size, generator).x.to(self.device, torch.float64)
            loss = -sum(flow.log_prob(x).mean() for flow in self.flows) / len(self.flows)
            losses.append(self._apply(loss))
        self.flat = False
        return losses

    def progress_postfix(self) -> str:
        """Training state for the progress bar."""
        if not self.adapting or math.isnan(self.last_loss):
            return ""
        annealing = f" beta={self.beta:.2g}" if self.beta < 1.0 else ""
        return f"loss={self.last_loss:.4g} rel.std={self.last_rel_std:.3g}{annealing}"

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "dim": self.dim,
            "options": dict(self.options),
            "flows": self.flows.state_dict(),
            "averaged": None if self.averaged is None else self.averaged.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "book": self.book.state_dict(),
            "flat": self.flat,
            "steps": self.steps,
            "batches": self.batches,
            "n_nonfinite": self.n_nonfinite,
            "stage": self.stage,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise HepflowError(
                f"not a saved nis sampler (format {state.get('format')!r}, expected "
                f"{STATE_FORMAT!r}); save it with the nis sampler of this hepflow"
            )
        # states saved before these options had them off
        saved = {"power_edges": False, "fourier": 0, "fourier_max_inputs": None}
        saved.update(state["options"])
        if state["dim"] != self.dim or saved != self.options:
            raise HepflowError(
                f"the saved nis sampler has dim {state['dim']} and flow options "
                f"{state['options']}; this one has dim {self.dim} and {self.options}: create "
                "the sampler with the saved options"
            )
        self.flows.load_state_dict(state["flows"])
        averaged = state.get("averaged")
        if (averaged is None) != (self.averaged is None):
            raise HepflowError(
                "the saved nis sampler was trained with ema "
                f"{'off' if averaged is None else 'on'}; create this one with the same ema"
            )
        if averaged is not None:
            self.averaged.load_state_dict(averaged)
        self.optimizer.load_state_dict(state["optimizer"])
        self.book.load_state_dict(state["book"])
        self.flat = bool(state["flat"])
        self.steps = int(state["steps"])
        self.batches = int(state.get("batches", 0))
        self.n_nonfinite = int(state["n_nonfinite"])
        self.stage = state.get("stage")


def _adam(flows: torch.nn.Module, lr: float, weight_decay: float = 0.0) -> torch.optim.AdamW:
    """AdamW (plain Adam at ``weight_decay`` 0); the fused kernel where torch has it (5x faster
    steps for these small flows).

    The decay acts on the networks' weight matrices only. It pulls each coupling toward its
    unconditional spline (the output layer's bias), so the flow toward a product of
    one-dimensional maps, which stay free to fit the target's marginals: decaying the biases
    too pulled the flow toward the identity and biased its shape (ee_uuxg: rel. std 0.0245
    against 0.0157 per channel). The few exponents of ``PowerEdges`` layers, which must travel
    far from zero (log a = -1.1 for an x^2 edge), are not decayed either and step
    ``POWER_EDGES_LR_SCALE`` times faster."""
    edges = [p for m in flows.modules() if isinstance(m, PowerEdges) for p in m.parameters()]
    params = [p for p in flows.parameters() if all(p is not e for e in edges)]
    groups = [
        {"params": [p for p in params if p.ndim > 1]},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    if edges:
        groups.append(
            {
                "params": edges,
                "weight_decay": 0.0,
                "lr": lr * POWER_EDGES_LR_SCALE,
                "lr_scale": POWER_EDGES_LR_SCALE,
            }
        )
    try:
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError):  # a device or torch without fused Adam
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)


def _choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)
