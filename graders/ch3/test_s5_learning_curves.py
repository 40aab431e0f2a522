"""Grader for 3.5 Understanding learning curves."""

import math

import pytest
import torch

from hfcourse import expect

TOK, DATA, MODEL = "wordpiece-uncased", "mrpc-like", "tiny-mrpc"


def _glue(fx) -> str:
    return str(fx.path(DATA) / "glue")


def _parse(log: list[dict]) -> dict:
    train = [e for e in log if "loss" in e]
    evals = [e for e in log if "eval_loss" in e]
    return {"train_steps": [e["step"] for e in train], "train_loss": [e["loss"] for e in train],
            "eval_steps": [e["step"] for e in evals], "eval_loss": [e["eval_loss"] for e in evals]}


def _log_history(rng) -> list[dict]:
    """A log_history like Trainer's: training entries every few steps, evaluations between
    them, and the summary entry at the end."""
    steps_per_epoch, every, evaluate = rng.randrange(4, 9), rng.randrange(1, 4), rng.randrange(2, 6)
    total = steps_per_epoch * rng.randrange(2, 5)
    log, loss = [], rng.uniform(0.6, 0.9)
    for step in range(1, total + 1):
        epoch = round(step / steps_per_epoch, 4)
        if step % every == 0:
            loss *= rng.uniform(0.85, 1.02)
            log.append({"loss": loss, "grad_norm": rng.uniform(0.5, 3), "learning_rate": 1e-3 * (1 - step / total),
                        "epoch": epoch, "step": step})
        if step % evaluate == 0:
            log.append({"eval_loss": loss * rng.uniform(0.9, 1.2), "eval_runtime": rng.uniform(0.1, 0.3),
                        "eval_samples_per_second": rng.uniform(300, 900), "epoch": epoch, "step": step})
    log.append({"train_runtime": rng.uniform(1, 3), "train_samples_per_second": rng.uniform(50, 150),
                "total_flos": 1e6, "train_loss": loss, "epoch": float(total // steps_per_epoch), "step": total})
    return log


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Training entries have \"loss\", evaluation entries \"eval_loss\"; the final summary has \"train_loss\" and belongs to neither curve.",
                   hint_zh="训练记录含 \"loss\"，评估记录含 \"eval_loss\"；最后的汇总记录含 \"train_loss\"，不属于任何一条曲线。")
def test_curves_parse_log_history(student, rng):
    for _ in range(3):
        log = _log_history(rng)
        expect.equal(student.curves(log), _parse(log), "curves of a log_history",
                     likely=("take the step from \"step\", and skip the summary entry (it has \"train_loss\", not \"loss\")",
                             "步数取自 \"step\"，并跳过汇总记录（它含 \"train_loss\" 而不是 \"loss\"）"))


def _curve(rng, start: float, end: float, n: int) -> list[float]:
    rate = rng.uniform(2, 4)
    return [end + (start - end) * math.exp(-rate * i / (n - 1)) for i in range(n)]


def _cases(rng) -> list[tuple[list[float], list[float], str]]:
    n = rng.randrange(6, 12)
    first = rng.uniform(0.6, 1.2)
    healthy = (_curve(rng, first, first * 0.25, n), _curve(rng, first * 1.05, first * 0.35, n), "healthy")
    bottom = rng.randrange(2, n - 2)
    valley = _curve(rng, first, first * 0.5, bottom + 1)
    rise = [valley[-1] * (1 + 0.6 * (i + 1) / (n - bottom - 1)) for i in range(n - bottom - 1)]
    overfit = (_curve(rng, first, first * 0.05, n), valley + rise, "overfitting")
    flat = (_curve(rng, first, first * 0.9, n), _curve(rng, first, first * 0.92, n), "underfitting")
    mild = (_curve(rng, first, first * 0.8, n), valley + rise, "overfitting")
    diverging = ([first * (1 + 0.1 * i) for i in range(n)], valley + rise, "underfitting")
    return [healthy, overfit, flat, mild, diverging, *_BOUNDARIES]


_BOUNDARIES = [
    # exactly 10 % above the lowest validation loss is not "more than 10 %"
    ([1.0, 0.6, 0.2], [1.0, 0.5, 0.55], "healthy"),
    # validation loss rose, but the last training loss equals the first: not below it
    ([1.0, 0.4, 1.0], [1.0, 0.5, 0.9], "underfitting"),
    # the last training loss is below the first (not below the second)
    ([1.0, 0.3, 0.5], [1.0, 0.5, 0.9], "overfitting"),
    # 60 % of the first training loss is healthy (compared with the first, not the second)
    ([1.0, 0.5, 0.6], [1.0, 0.8, 0.7], "healthy"),
    # exactly 70 % of the first training loss is not "still above 70 %"
    ([1.0, 0.5, 0.7], [1.0, 0.8, 0.7], "healthy"),
]


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Check the rules in the docstring's order: overfitting (validation loss rose over 10 % above its minimum while the training loss fell) before underfitting.",
                   hint_zh="按文档字符串中的顺序检查规则：先判断过拟合（验证损失比最低点高出10%以上，同时训练损失在下降），再判断欠拟合。")
def test_diagnose(student, rng):
    cases = _cases(rng)
    rng.shuffle(cases)
    for train, evals, want in cases:
        got = student.diagnose(train, evals)
        expect.equal(got, want, f"diagnosis of train {[round(x, 3) for x in train]} / validation {[round(x, 3) for x in evals]}",
                     likely=("compare the last validation loss with the lowest one, not the first one; check overfitting first",
                             "把最后的验证损失和最低的验证损失比较，而不是和第一个比较；先检查过拟合"))


@pytest.mark.grade(points=1, hint="eval_strategy=\"steps\" with eval_steps, logging_strategy=\"steps\" with logging_steps.",
                   hint_zh="eval_strategy=\"steps\" 配合 eval_steps，logging_strategy=\"steps\" 配合 logging_steps。")
def test_logging_args(student, rng):
    logging, evaluate = rng.randrange(1, 4), rng.randrange(2, 6)
    got = student.call("logging_args", student.scratch("curve-args"), 3, 1e-3, logging, evaluate, rng.randrange(100),
                       probe="ch3:training_args")
    want = {"eval_strategy": "steps", "eval_steps": evaluate, "logging_strategy": "steps", "logging_steps": logging,
            "save_strategy": "no", "report_to": [], "num_train_epochs": 3, "learning_rate": 1e-3}
    expect.equal({k: got[k] for k in want}, want, "training arguments for learning curves")


@pytest.mark.grade(points=2, hint="With logging_steps=k the training loss is logged at steps k, 2k, …; with eval_steps=m the model is evaluated at m, 2m, ….",
                   hint_zh="logging_steps=k 时训练损失记录在第 k、2k…… 步；eval_steps=m 时在第 m、2m…… 步评估。")
def test_train_with_curves(student, reference, fx, rng):
    rows, epochs, logging, evaluate = 32, 3, rng.choice([1, 2]), rng.choice([3, 4])
    args = (_glue(fx), student.scratch("curves-run"), rows, epochs, 1e-3, logging, evaluate, rng.randrange(100))
    got = student.call("train_with_curves", fx.ref(MODEL, fresh=True), fx.ref(TOK), *args, probe="ch3:trainer")
    log = got["state"]["log_history"]
    steps = epochs * rows // 8
    parsed = _parse(log)
    expect.equal(parsed["train_steps"], list(range(logging, steps + 1, logging)), "steps with a logged training loss",
                 likely=("logging_strategy=\"steps\", logging_steps=logging_steps", "logging_strategy=\"steps\"，logging_steps=logging_steps"))
    expect.equal(parsed["eval_steps"], list(range(evaluate, steps + 1, evaluate)), "steps with an evaluation",
                 likely=("eval_strategy=\"steps\", eval_steps=eval_steps", "eval_strategy=\"steps\"，eval_steps=eval_steps"))
    expect.equal(student.curves(log), parsed, "curves() of this run's log_history")
    ref_args = (args[0], reference.scratch("curves-run"), *args[2:])
    want = _parse(reference.call("train_with_curves", fx.ref(MODEL, fresh=True), fx.ref(TOK), *ref_args,
                                 probe="ch3:trainer")["state"]["log_history"])
    for key in ("train_loss", "eval_loss"):
        expect.true(all(abs(a - b) < 1e-4 for a, b in zip(parsed[key], want[key])), f"{key} curve differs from the reference's")


@pytest.mark.grade(points=3, hint="TrainingArguments(eval_strategy=\"epoch\", save_strategy=\"epoch\", load_best_model_at_end=True, metric_for_best_model=\"eval_loss\", greater_is_better=False) and callbacks=[EarlyStoppingCallback(early_stopping_patience=patience)].",
                   hint_zh="TrainingArguments(eval_strategy=\"epoch\", save_strategy=\"epoch\", load_best_model_at_end=True, metric_for_best_model=\"eval_loss\", greater_is_better=False)，并传入 callbacks=[EarlyStoppingCallback(early_stopping_patience=patience)]。")
def test_early_stopping(student, reference, fx, rng):
    patience = rng.choice([2, 3])
    args = (_glue(fx), student.scratch("early-run"), 16, 15, 2e-2, patience, rng.randrange(100))
    got = student.call("train_with_early_stopping", fx.ref(MODEL, fresh=True), fx.ref(TOK), *args, probe="ch3:trained")
    stopping = [cb for cb in got["callbacks"] if cb["name"] == "EarlyStoppingCallback"]
    expect.true(len(stopping) == 1, "the trainer has no EarlyStoppingCallback")
    expect.equal(stopping[0].get("early_stopping_patience"), patience, "early_stopping_patience")
    expect.equal([got["args"][k] for k in ("load_best_model_at_end", "metric_for_best_model", "greater_is_better")],
                 [True, "eval_loss", False], "load_best_model_at_end, metric_for_best_model, greater_is_better",
                 likely=("a lower validation loss is better: greater_is_better=False", "验证损失越低越好：greater_is_better=False"))
    state = got["state"]
    losses = [e["eval_loss"] for e in state["log_history"] if "eval_loss" in e]
    best = losses.index(min(losses))
    expect.true(state["global_step"] < state["max_steps"], f"training ran all {state['max_steps']} steps: it never stopped early")
    expect.equal(len(losses) - 1 - best, patience, "evaluations after the best one before stopping",
                 likely=("stop after `patience` evaluations without improvement", "连续 patience 次评估没有改善后停止"))
    expect.close(torch.tensor(float(state["best_metric"])), torch.tensor(min(losses)), "trainer.state.best_metric", atol=1e-9)
    expect.close(torch.tensor(float(got["final_eval"]["eval_loss"])), torch.tensor(min(losses)), "validation loss of the model the trainer ends with",
                 atol=1e-5, likely=("load_best_model_at_end=True restores the best checkpoint", "load_best_model_at_end=True 会恢复最好的检查点"))
    ref_args = (args[0], reference.scratch("early-run"), *args[2:])
    want = reference.call("train_with_early_stopping", fx.ref(MODEL, fresh=True), fx.ref(TOK), *ref_args, probe="ch3:trainer")
    expect.equal(state["global_step"], want["state"]["global_step"], "step at which training stopped, vs. the reference")
