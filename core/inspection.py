"""Look inside a trained run: the data behind the "Gradients through time" and "Inside the LSTM"
pages and `python -m core inspect`, all computed from the real weights at the kept checkpoints.

- probes, from one model's weights: ||dL/dh_t|| for every t on a fixed batch (`grad_through_time`,
  the vanishing-gradient picture), h_t, c_t and every gate of a few examples (`traces`), a model
  rebuilt as it was at a kept checkpoint (`model_from_weights`), weights as plain arrays
  (`state_arrays`, what runs keep);

- gradients: ||dL/dh_t|| per model and checkpoint (`grad_table`), where the task's information
  sits (`info_frame`), how many orders of magnitude the signal loses (`decay_table`), the global
  gradient norm over training with clipping events (`grad_norm_frame`);
- states and gates: traces of chosen examples (`example_traces`), as units x time tables
  (`heatmap_frame`) and per-step gate means (`gate_means_frame`);
- connectivity (after Distill's "Visualizing memorization in RNNs"): how strongly each model's
  read-out at step t depends on the input at step s (`connectivity`, `connectivity_frame`);
- the explainer's step-by-step table (`step_table`, `sentiment_table` for a typed sentence), the
  per-word read-out of every model side by side (`readout_table`, `sentence_table`) and the
  forget-gate arithmetic with real numbers (`forget_arithmetic`).

The charts drawn from these tables live in core.charts.inside.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from core.config import RunConfig
from core.models import MODELS, SeqModel, build_model, state_arrays  # noqa: F401 (state_arrays re-exported)
from core.results import ModelRun, RunResult
from core.tasks import Task, make_task

# --- probes: what a model does inside, from its weights -----------------------------------------
PROBE_BATCH = 64  # examples of the held-out batch used for the gradient probe


def grad_through_time(model: SeqModel, task: Task, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(T,) mean over examples of ||dL_b/dh_t||: how strongly example b's loss at the last step
    reaches back to the hidden state at step t (all paths through later steps included).

    Each example's own loss is used (the batch loss summed, not averaged), so the numbers do not
    shrink with the batch size.
    """
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        tr = model.trace(x, keep_graph=True)
        out = model.answer(tr)  # (B, out) read at the last step; an encoder-decoder's every word
        loss = task.loss(out, y) * len(y)  # sum over examples
        grads = torch.autograd.grad(loss, tr["hs"])  # T tensors, each (B, H)
    model.train(was_training)
    # norm in float64: squaring float32 entries below ~1e-19 underflows to 0, and a vanilla RNN's
    # gradient is that small a few dozen steps back, while the gradient itself is still nonzero
    g = torch.stack(grads, 1).double()  # (B, T, H)
    return g.norm(dim=-1).mean(0).detach().cpu().numpy()


@torch.no_grad()
def traces(model: SeqModel, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Every per-step quantity of the step-by-step path, as float32 arrays (B, T, ...)."""
    tr = model.trace(x)
    return {k: v.detach().cpu().float().numpy() for k, v in tr.items()}


def probe_batch(task: Task) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = task.eval_batch()
    return x[:PROBE_BATCH], y[:PROBE_BATCH]


def decay_ratio(grad: np.ndarray) -> float:
    """||dL/dh_1|| / ||dL/dh_T||: below 1 the signal fades on its way back; log10 of it is the
    number of orders of magnitude lost across the sequence."""
    last = float(grad[-1])
    return float(grad[0]) / last if last > 0 else float("nan")


def fill_grad_probes(run: ModelRun) -> None:
    """Compute the gradient probe of every kept checkpoint of a ModelRun that lacks one."""
    missing = [s for s in run.checkpoints if s not in run.grad_probes]
    if not missing:
        return
    task = make_task(run.config.task)
    x, y = probe_batch(task)
    for step in sorted(missing):
        model = model_from_weights(run.config, run.kind, run.checkpoints[step])
        run.grad_probes[step] = grad_through_time(model, task, x, y)


def checkpoint_traces(run: ModelRun, x: torch.Tensor) -> dict[int, dict[str, np.ndarray]]:
    """Traces of examples x at every kept checkpoint of a ModelRun: step -> name -> (B, T, ...)."""
    return {step: traces(model_from_weights(run.config, run.kind, w), x)
            for step, w in sorted(run.checkpoints.items())}


def grad_frame(result: RunResult) -> pd.DataFrame:
    """Long table: model, step (training step of the checkpoint), t (time step), grad_norm.
    Probes missing for a kept checkpoint are computed from its weights here, once."""
    frames = []
    for k, r in result.runs.items():
        fill_grad_probes(r)
        for step, g in sorted(r.grad_probes.items()):
            frames.append(pd.DataFrame({"model": k, "step": step, "t": np.arange(len(g)), "grad_norm": g}))
    if not frames:
        return pd.DataFrame(columns=["model", "step", "t", "grad_norm"])
    return pd.concat(frames, ignore_index=True)


EXPLAINER_SENTENCE = "i loved the movie , but the ending was disappointing"


# --- checkpoints --------------------------------------------------------------------------------
def kept_steps(result: RunResult) -> list[int]:
    """Every training step at which some model kept its weights, ascending."""
    return sorted({s for r in result.runs.values() for s in r.checkpoints})


def check_step(result: RunResult, step: int | None, where: str = "the run") -> None:
    """--step of `inspect` and `export`: within the run's kept checkpoints (each model then answers
    with its nearest one); ValueError in one line otherwise, or when the run keeps no weights."""
    steps = kept_steps(result)
    if not steps:
        raise ValueError(f"{where} keeps no checkpoint weights to inspect")
    if step is not None and not steps[0] <= step <= steps[-1]:
        raise ValueError(f"--step must be between {steps[0]} and {steps[-1]} (kept: {', '.join(map(str, steps))})")


def model_from_weights(cfg: RunConfig, kind: str, weights: dict[str, np.ndarray]) -> SeqModel:
    """The model of a run's config, with the weights it kept at a checkpoint."""
    task = make_task(cfg.task)
    model = build_model(kind, task, cfg.model, cfg.train.seed)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
    return model.eval()


def resolve_step(run: ModelRun, step: int | None = None) -> int:
    """The model's kept checkpoint nearest to `step` (default: its last one); models that stopped
    or diverged early keep fewer checkpoints, so each answers with the nearest one it has."""
    if not run.checkpoints:
        raise ValueError(f"{run.title} has no kept checkpoint")
    steps = sorted(run.checkpoints)
    if step is None:
        return steps[-1]
    return min(steps, key=lambda s: (abs(s - step), -s))


def with_checkpoints(result: RunResult) -> dict[str, ModelRun]:
    return {k: r for k, r in result.runs.items() if r.checkpoints}


# --- gradients through time -------------------------------------------------------------------
def grad_table(result: RunResult) -> pd.DataFrame:
    """model, name, step, t, grad_norm: the probe at every kept checkpoint (computed if missing)."""
    df = grad_frame(result)
    df.insert(1, "name", df["model"].map(result.titles()))
    return df


def info_frame(task: Task, x: torch.Tensor) -> pd.DataFrame:
    """t, share: the fraction of examples x whose answer depends on the input at step t."""
    share = task.info_mask(x).double().mean(0).numpy()
    return pd.DataFrame({"t": np.arange(len(share)), "share": share})


def orders_lost(ratio: float) -> float:
    """Orders of magnitude a gradient lost: -log10(ratio); inf for a ratio of 0 (it underflowed
    float32: everything lost), nan when the ratio is not measurable (zero or non-finite at h_T)."""
    if ratio == 0:
        return math.inf
    return -math.log10(ratio) if ratio > 0 and math.isfinite(ratio) else float("nan")


def _ratio_words(ratio: float, T: int) -> str:
    if ratio == 0:  # float32 gradients underflow below ~1e-45: the signal is gone, not measured
        return "0 (the gradient at h_1 underflowed float32: more than ~40 orders of magnitude lost)"
    if not (ratio > 0 and math.isfinite(ratio)):
        return "not measurable (the gradient at h_T is zero or not finite)"
    orders = orders_lost(ratio)
    how = f"loses {orders:.1f} orders of magnitude" if orders > 0 else f"gains {-orders:.1f} orders of magnitude"
    return f"{ratio:.2g} ({how} over {T} steps)"


def decay_table(result: RunResult, step: int | None = None) -> pd.DataFrame:
    """One row per model: ||dL/dh_1|| / ||dL/dh_T|| at initialisation and at `step` (default: the
    last checkpoint), with log10 orders lost and a one-line summary."""
    grads = grad_table(result)
    T = result.task.seq_len
    rows = []
    for kind, run in with_checkpoints(result).items():
        g = grads[grads.model == kind]
        first, at = min(run.checkpoints), resolve_step(run, step)
        r0 = decay_ratio(g[g.step == first].sort_values("t").grad_norm.to_numpy())
        r1 = decay_ratio(g[g.step == at].sort_values("t").grad_norm.to_numpy())
        name = run.title
        rows.append({
            "model": kind, "name": name, "init_step": first, "init_ratio": r0, "init_orders_lost": orders_lost(r0),
            "step": at, "ratio": r1, "orders_lost": orders_lost(r1),
            "summary": f"{name}: ||dL/dh_1|| / ||dL/dh_T|| is {_ratio_words(r0, T)} at initialisation "
                       f"and {_ratio_words(r1, T)} at training step {at}.",
        })
    return pd.DataFrame(rows, columns=["model", "name", "init_step", "init_ratio", "init_orders_lost", "step",
                                       "ratio", "orders_lost", "summary"])


def grad_norm_frame(result: RunResult, max_points: int = 1500) -> pd.DataFrame:
    """model, name, step, grad_norm, clipped: the global gradient norm (before clipping) of every
    training step. Long runs are thinned to about `max_points` buckets per model (mean norm, and
    `clipped` if any step in the bucket was clipped) so the chart stays light."""
    df = result.steps_frame()[["model", "step", "grad_norm", "clipped"]]
    parts = []
    for kind, g in df.groupby("model", sort=False):
        g = g.sort_values("step")
        k = max(1, math.ceil(len(g) / max_points))
        if k > 1:
            b = np.arange(len(g)) // k
            g = g.assign(bucket=b).groupby("bucket").agg(
                step=("step", "last"), grad_norm=("grad_norm", "mean"), clipped=("clipped", "any"))
            g.insert(0, "model", kind)
        parts.append(g.reset_index(drop=True))
    out = pd.concat(parts, ignore_index=True) if parts else df
    out = out.astype({"step": "int64", "grad_norm": "float64", "clipped": "bool"})  # typed even when empty
    out.insert(1, "name", out["model"].map(result.titles()))
    return out


# --- traces of chosen examples ---------------------------------------------------------------
def showcase(task: Task, n: int = 4) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """A few held-out examples and a one-line label each ('C 4 0 7 ... -> C')."""
    x, y = task.showcase(n)
    labels = []
    for words, target in zip(task.render(x), y):
        text = " ".join(words) if len(words) <= 24 else " ".join(words[:20]) + f" ... ({len(words)} in all)"
        labels.append(f"{text}  ->  {task.label_name(target)}")
    return x, y, labels


def example_traces(result: RunResult, kind: str, step: int | None, x: torch.Tensor) -> dict[str, np.ndarray]:
    """h, out and (LSTM) c, i, f, g, o / (GRU) r, z, n of examples x, (B, T, ...), with the
    weights the model had at its checkpoint nearest `step`."""
    run = result.runs[kind]
    model = model_from_weights(run.config, kind, run.checkpoints[resolve_step(run, step)])
    return traces(model, x)


def heatmap_frame(tr: dict[str, dict[str, np.ndarray]], example: int = 0) -> pd.DataFrame:
    """model, quantity, unit, t, value: units x time of every panel quantity of one example,
    for each model's traces tr[kind]."""
    frames = []
    for kind, arrays in tr.items():
        for q in MODELS[kind].panels:  # what the heatmaps show (the RNN has only h_t)
            a = arrays[q][example]  # (T, H)
            T, H = a.shape
            frames.append(pd.DataFrame({"model": kind, "quantity": q, "unit": np.tile(np.arange(H), T),
                                        "t": np.repeat(np.arange(T), H), "value": a.reshape(-1)}))
    if not frames:
        return pd.DataFrame(columns=["model", "quantity", "unit", "t", "value"])
    return pd.concat(frames, ignore_index=True)


def gate_means_frame(arrays: dict[str, np.ndarray], example: int = 0) -> pd.DataFrame:
    """t, gate, mean: the LSTM's forget, input and output gates averaged over units at each step."""
    names = {"f": "forget gate f_t", "i": "input gate i_t", "o": "output gate o_t"}
    rows = [pd.DataFrame({"t": np.arange(arrays[g].shape[1]), "gate": label, "mean": arrays[g][example].mean(-1)})
            for g, label in names.items() if g in arrays]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["t", "gate", "mean"])


# --- connectivity: which inputs each read-out depends on ------------------------------------
CONNECTIVITY_EXAMPLES = 8  # held-out examples averaged over


CONNECTIVITY_READOUTS = 100  # at most this many read-out positions: one backward pass each


def readout_stride(T: int) -> int:
    """Every k-th read-out position is probed (all of them up to T = CONNECTIVITY_READOUTS): at
    T = 1000 a backward pass per position would take minutes."""
    return max(1, math.ceil(T / CONNECTIVITY_READOUTS))


def connectivity(model: SeqModel, x: torch.Tensor, readouts: list[int] | None = None) -> np.ndarray:
    """(T, T) array C[t, s]: the mean over examples of ||d r_t / d e_s||, how strongly the read-out
    at step t depends on the input at step s (0 for s > t: a read-out cannot see the future).

    e_s is the encoded input at s (a one-hot row for a symbol, the values for real channels); r_t is
    the head read at step t (`trace`'s `out`) for the class the model predicts there (regression: its
    one output), the class fixed by the unperturbed input. Each example's r_t depends only on its own
    input, so one backward pass of the batch's sum per read-out gives every example's gradient.
    `readouts`: the read-out positions t to compute (from 0; default all); other rows stay 0."""
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        xe = model.encode(x).detach().requires_grad_(True)  # (B, T, I)
        out = model.trace_encoded(xe)["out"]  # (B, T, out)
        if out.shape[-1] > 1:
            k = out.detach().argmax(-1, keepdim=True)  # (B, T, 1): the predicted class at each step
            r = out.gather(-1, k)[..., 0]  # (B, T)
        else:
            r = out[..., 0]
        T = r.shape[1]
        todo = list(range(T)) if readouts is None else sorted(set(readouts))
        c = np.zeros((T, xe.shape[1]))  # an encoder-decoder's T words written against its S read
        for j, t in enumerate(todo):
            (g,) = torch.autograd.grad(r[:, t].sum(), xe, retain_graph=j < len(todo) - 1)  # (B, T, I)
            c[t] = g.double().norm(dim=-1).mean(0).cpu().numpy()  # float64: no underflow in the square
    model.train(was_training)
    return c


def connectivity_frame(result: RunResult, x: torch.Tensor | None = None, step: int | None = None) -> pd.DataFrame:
    """model, name, step, readout_position, input_position, value, share: `connectivity` of every
    model with kept weights at its checkpoint nearest `step` (default: its last), on examples x
    (default: the first CONNECTIVITY_EXAMPLES of the probe batch); positions from 0, s <= t only.
    `share` is value / the sum over input positions of that read-out: the strip normalised, as
    Distill's is, so a read-out that depends on little still shows where it looks. With one example,
    `input` is its symbol or word at the input position. Beyond T = CONNECTIVITY_READOUTS only every
    `readout_stride(T)`-th read-out position is probed, counted back from the last (T, T - k, ...)."""
    task = result.task
    if x is None:
        x = probe_batch(task)[0][:CONNECTIVITY_EXAMPLES]
    words = task.render(x[:1])[0] if len(x) == 1 else None
    frames = []
    T = x.shape[1]
    n_out = task.out_len if task.output_kind == "sentence" else T  # an encoder-decoder: the words written
    k = readout_stride(n_out)
    readouts = list(range(n_out - 1, -1, -k))[::-1]  # always the last read-out, the answer's
    for kind, run in with_checkpoints(result).items():
        at = resolve_step(run, step)
        c = connectivity(model_from_weights(run.config, kind, run.checkpoints[at]), x, readouts)
        # a word written reads the whole source; a read-out at step t, the inputs up to t
        t, s = np.indices((n_out, T)).reshape(2, -1) if task.output_kind == "sentence" else np.tril_indices(T)
        keep = np.isin(t, readouts)
        t, s = t[keep], s[keep]
        value = c[t, s]
        total = c.sum(axis=1)[t]
        share = np.divide(value, total, out=np.zeros_like(value), where=total > 0)
        df = pd.DataFrame({"model": kind, "name": run.title, "step": at, "readout_position": t,
                           "input_position": s, "value": value, "share": share})
        if words is not None:
            df["input"] = [words[j] for j in s]
        frames.append(df)
    cols = ["model", "name", "step", "readout_position", "input_position", "value", "share"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


# --- the explainer's step-by-step table -------------------------------------------------------
def step_table(result: RunResult, kind: str, step: int | None, x: torch.Tensor, example: int = 0) -> pd.DataFrame:
    """One row per input step of example x[example]: t, input, info, the mean forget / input /
    output gate and ||c_t|| (LSTM), ||h_t||, and the answer the head reads out at that step."""
    task = result.task
    tr = example_traces(result, kind, step, x[example : example + 1])
    words = task.render(x[example : example + 1])[0]
    info = task.info_mask(x[example : example + 1])[0].numpy()
    df = pd.DataFrame({"t": np.arange(len(words)), "input": words, "info": info})
    if kind == "lstm":
        df["forget_mean"] = tr["f"][0].mean(-1)
        df["input_mean"] = tr["i"][0].mean(-1)
        df["output_mean"] = tr["o"][0].mean(-1)
        df["c_norm"] = np.linalg.norm(tr["c"][0], axis=-1)
    df["h_norm"] = np.linalg.norm(tr["h"][0], axis=-1)
    out = torch.from_numpy(tr["out"][0])  # (T, out): the answer if read at each step
    if task.output_kind == "sentence":  # a decoder writes its answer after the source: no read-out per step
        return df
    if task.metric == "accuracy":
        p = torch.softmax(out.double(), -1)
        df["predicted"] = [task.class_names[int(k)] for k in p.argmax(-1)]
        df["confidence"] = p.max(-1).values.numpy()
        if task.n_classes == 2:
            df[f"p_{task.class_names[1]}"] = p[:, 1].numpy()
    else:  # in the units a user reads (°C for the weather; identity for the synthetic tasks)
        df["predicted"] = task.to_units(out[:, 0].double()).numpy()
    return df


def sentiment_table(result: RunResult, text: str, kind: str = "lstm", step: int | None = None) -> pd.DataFrame:
    """The step-by-step table of a typed sentence (a task that reads text: sentiment_but, own_text). A word outside the task's
    vocabulary raises ValueError with a one-line message naming it."""
    task = result.task
    if not task.reads_text:
        raise ValueError("typed sentences need a run of a task that reads sentences (sentiment_but, own_text)")
    return step_table(result, kind, step, task.encode_text(text))


def readout_table(result: RunResult, x: torch.Tensor, step: int | None = None, example: int = 0) -> pd.DataFrame:
    """The step-by-step table of example x[example] for every model with kept weights, one block of
    rows per model (columns `model` and `name` first); gate columns are empty for models without them."""
    parts = []
    for kind, run in with_checkpoints(result).items():
        df = step_table(result, kind, step, x, example)
        df.insert(0, "model", kind)
        df.insert(1, "name", run.title)
        parts.append(df)
    if not parts:
        return pd.DataFrame(columns=["model", "name", "t", "input", "info"])
    return pd.concat(parts, ignore_index=True)


def sentence_table(result: RunResult, text: str, step: int | None = None) -> pd.DataFrame:
    """What every model reads out after each word of a typed sentence (sentiment_but, own_text):
    `readout_table` of the sentence. ValueError (one line) names a word outside the vocabulary."""
    task = result.task
    if not task.reads_text:
        raise ValueError("typed sentences need a run of a task that reads sentences (sentiment_but, own_text)")
    return readout_table(result, task.encode_text(text), step)


# --- the forget gate, with real numbers -------------------------------------------------------
def forget_arithmetic(result: RunResult, x: torch.Tensor, t: int, step: int | None = None,
                      example: int = 0) -> pd.DataFrame:
    """Per unit of the LSTM at time step t of example x[example]: W_f·h_{t-1}, W_f·x_t and b_f
    (the three parts of W_f·[h_{t-1}, x_t] + b_f), their sum z, f_t = σ(z), c_{t-1}, what is kept
    f_t ⊙ c_{t-1}, what is written i_t ⊙ g_t, and c_t. Computed in float64 from the weights,
    independently of the trace, which supplies only h_{t-1} and c_{t-1}."""
    run = result.runs.get("lstm")
    if run is None:
        raise ValueError("this run has no LSTM")
    T = x.shape[1]
    if not 0 <= t < T:
        raise ValueError(f"time step must be between 0 and {T - 1}, got {t}")
    model = model_from_weights(run.config, "lstm", run.checkpoints[resolve_step(run, step)]).double()
    xe = model.encode(x[example : example + 1])[0]  # (T, I)
    with torch.no_grad():
        tr = model.trace(x[example : example + 1])
        H = model.hidden_size
        h_prev = tr["h"][0, t - 1] if t > 0 else torch.zeros(H, dtype=torch.float64)
        c_prev = tr["c"][0, t - 1] if t > 0 else torch.zeros(H, dtype=torch.float64)
        w_ih, w_hh, b_ih, b_hh = model.params()
        i_, f_, g_ = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)
        from_h = w_hh[f_] @ h_prev
        from_x = w_ih[f_] @ xe[t]
        bias = b_ih[f_] + b_hh[f_]
        z = from_h + from_x + bias
        f = torch.sigmoid(z)
        pre = w_ih @ xe[t] + b_ih + w_hh @ h_prev + b_hh
        written = torch.sigmoid(pre[i_]) * torch.tanh(pre[g_])
    cols = {"unit": np.arange(H), "W_f·h_{t-1}": from_h, "W_f·x_t": from_x, "b_f": bias,
            "z = W_f·[h_{t-1}, x_t] + b_f": z, "f_t = σ(z)": f, "c_{t-1}": c_prev,
            "f_t ⊙ c_{t-1} (kept)": f * c_prev, "i_t ⊙ g_t (written)": written, "c_t": f * c_prev + written}
    return pd.DataFrame({k: (v.numpy() if torch.is_tensor(v) else v) for k, v in cols.items()})


def default_focus_step(task: Task, x: torch.Tensor, example: int = 0) -> int:
    """A time step worth looking at: the one just after the example's last information position
    (where the forget gate decides whether to keep it), else the last step."""
    pos = task.info_mask(x[example : example + 1])[0].nonzero().flatten()
    return min(int(pos[-1]) + 1, x.shape[1] - 1) if len(pos) else x.shape[1] - 1


# --- everything for one checkpoint, as data --------------------------------------
def inspect_data(result: RunResult, step: int | None = None, example: int = 0, text: str | None = None,
                 t: int | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the two pages for one checkpoint (what `python -m core inspect` writes)."""
    task = result.task
    runs = with_checkpoints(result)
    x, _, _ = showcase(task)
    example = min(max(example, 0), len(x) - 1)
    tr = {k: example_traces(result, k, step, x[example : example + 1]) for k in runs}
    data = {
        "grad_through_time": grad_table(result),
        "info_positions": info_frame(task, probe_batch(task)[0]),
        "decay": decay_table(result, step),
        "grad_norm": grad_norm_frame(result, max_points=10**9),
        "heatmaps": heatmap_frame(tr, 0),
        "example_info": info_frame(task, x[example : example + 1]),
    }
    if "lstm" in runs:
        data["gate_means"] = gate_means_frame(tr["lstm"], 0)
        data["forget_arithmetic"] = forget_arithmetic(
            result, x, default_focus_step(task, x, example) if t is None else t, step, example)
    kind = "lstm" if "lstm" in runs else next(iter(runs), None)
    if kind is not None:
        data["step_table"] = step_table(result, kind, step, x, example)
    if text is not None:  # every model's read-out, word by word
        data["sentence_table"] = sentence_table(result, text, step)
    data["connectivity"] = connectivity_frame(result, step=step)[
        ["model", "step", "readout_position", "input_position", "value"]]
    return data


# --- attention (an encoder-decoder, core.seq2seq) ------------------------------------------------
def attention_frame(run: ModelRun, step: int | None = None, example: int = 0) -> pd.DataFrame:
    """Long table of where the decoder looked: for a held-out example, each output word (`out_t`,
    `written`, `expected`) against each source word (`src_t`, `source`, in the order of the
    sentence, also when the encoder read it backwards) and its attention weight `weight`, at the
    kept checkpoint nearest `step`. Empty for a model without attention."""
    cols = ["out_t", "written", "expected", "src_t", "source", "weight"]
    if run.config.model.attention == "none" or not run.checkpoints:
        return pd.DataFrame(columns=cols)
    task = make_task(run.config.task)
    model = model_from_weights(run.config, run.kind, run.checkpoints[resolve_step(run, step)])
    x, y = task.showcase(example + 1)
    with torch.no_grad():
        tr = model.trace(x[example : example + 1])
    a = tr["attn"][0].double().numpy()  # (T_out, S), encoder's reading order
    if run.config.model.reverse_source == "yes":
        a = a[:, ::-1]  # back to the sentence's order
    written = tr["out"][0].argmax(-1).tolist()
    source = task.render(x[example : example + 1])[0]
    rows = [(t, task.class_names[written[t]], task.class_names[int(y[example, t])], s, source[s], float(a[t, s]))
            for t in range(a.shape[0]) for s in range(a.shape[1])]
    return pd.DataFrame(rows, columns=cols)
