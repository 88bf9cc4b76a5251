"""Generic probes: public helpers the grader can call inside the worker.

They build small torch objects (an MLP with given weights, a scripted policy, an
optimizer), compute gradients of a student function w.r.t. its leaf inputs, and
read parameters back. Nothing here knows an expected value: verdicts are made in
the grader process.
"""

from __future__ import annotations

import random
import sys
import types

import standins  # the exercise stand-ins (the worker's folder is on sys.path)


def _torch():
    import torch

    return torch


def grad(call, args: list, kwargs: dict, grad_output=None) -> dict:
    """Call ``call(*args, **kwargs)`` and differentiate its tensor output.

    The leaves are the input tensors sent with ``requires_grad`` (in the order they
    appear in ``args`` then ``kwargs``). A non-scalar output needs ``grad_output``.

    Returns:
        ``{"out": output, "grads": [grad or None per leaf], "graph": bool}``.
    """
    torch = _torch()
    leaves = [
        x for x in _flatten([args, kwargs]) if isinstance(x, torch.Tensor) and x.requires_grad
    ]
    out = call(*args, **kwargs)
    if type(out) is not torch.Tensor:
        raise TypeError(f"expected a torch.Tensor to differentiate, got {type(out).__name__}")
    if not out.requires_grad:
        return {"out": out, "grads": [None] * len(leaves), "graph": False}
    if grad_output is None and out.ndim != 0:
        raise TypeError(f"expected a 0-d (scalar) tensor, got shape {tuple(out.shape)}")
    grads = torch.autograd.grad(out, leaves, grad_outputs=grad_output, allow_unused=True)
    return {"out": out, "grads": list(grads), "graph": True}


def _flatten(obj) -> list:
    if isinstance(obj, (list, tuple)):
        return [y for x in obj for y in _flatten(x)]
    if isinstance(obj, dict):
        return [y for x in obj.values() for y in _flatten(x)]
    return [obj]


def inputs_after(call, args: list, kwargs: dict) -> dict:
    """Call ``call(*args, **kwargs)`` and return its output and the arguments afterwards.

    The grader compares the arguments with what it sent to see whether the
    student's code modified its inputs in place.
    """
    out = call(*args, **kwargs)
    return {"out": out, "args": list(args), "kwargs": dict(kwargs)}


def seed(n: int) -> None:
    """Seed torch, numpy and ``random`` in the worker."""
    torch = _torch()
    import numpy as np

    torch.manual_seed(n)
    np.random.seed(n % 2**32)
    random.seed(n)


def mlp(weights: list) -> object:
    """``Linear -> ReLU -> Linear`` with the given ``[W1, b1, W2, b2]`` (float32)."""
    torch = _torch()
    w1, b1, w2, b2 = (torch.as_tensor(w, dtype=torch.float32) for w in weights)
    net = torch.nn.Sequential(
        torch.nn.Linear(w1.shape[1], w1.shape[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(w2.shape[1], w2.shape[0]),
    )
    set_parameters(net, [w1, b1, w2, b2])
    return net


def scripted_policy(table) -> object:
    """A policy whose logits for grid state ``(row, col)`` come from ``table[row, col]``.

    ``table`` is ``(size, size, n_actions)``. The policy records every input it
    receives (see :func:`recorded_inputs`) and its logits are differentiable
    w.r.t. the table, so log-probs drawn from it carry a graph.
    """
    torch = _torch()

    class ScriptedPolicy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = torch.nn.Parameter(torch.as_tensor(table, dtype=torch.float32))
            self.inputs: list = []

        def forward(self, state):
            self.inputs.append(state.detach().clone() if isinstance(state, torch.Tensor) else state)
            return self.table[int(state[0]), int(state[1])]  # (n_actions,)

    return ScriptedPolicy()


def recorded_inputs(policy) -> list:
    """The inputs a scripted policy has seen, in order."""
    return list(policy.inputs)


def optimizer(module, kind: str, lr: float) -> object:
    """``torch.optim.SGD`` or ``Adam`` over ``module.parameters()``."""
    torch = _torch()
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[kind]
    return cls(module.parameters(), lr=lr)


def log_probs(policy, states, actions) -> object:
    """``log_softmax(policy(states))[actions]``, attached to the policy's graph."""
    torch = _torch()
    logits = policy(states)  # (T, n_actions)
    return torch.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def parameters(module) -> list:
    """The module's parameters in registration order (detached copies)."""
    return [p.detach().clone() for p in module.parameters()]


def set_parameters(module, values: list) -> None:
    """Copy ``values`` into the module's parameters, in registration order."""
    torch = _torch()
    params = list(module.parameters())
    shapes = [tuple(p.shape) for p in params]
    wanted = [tuple(torch.as_tensor(v).shape) for v in values]
    if shapes != wanted:
        raise ValueError(f"parameter shapes are {shapes}, expected {wanted}")
    with torch.no_grad():
        for p, v in zip(params, values, strict=True):
            p.copy_(torch.as_tensor(v, dtype=p.dtype))


def set_grads(module, values: list) -> None:
    """Set each parameter's ``.grad`` (e.g. stale gradients a correct update must clear first)."""
    torch = _torch()
    for p, v in zip(module.parameters(), values, strict=True):
        p.grad = torch.as_tensor(v, dtype=p.dtype).clone()


def sampler():
    """A correct ``sample_action(logits) -> (int, 0-d log-prob with graph)``.

    Installed into a student's module (:func:`set_module_attr`) so that a rollout
    check of one exercise does not also grade the ``sample_action`` of another.
    """
    torch = _torch()

    def sample_action(logits):
        logp_all = torch.log_softmax(logits, dim=-1)  # (n_actions,)
        action = int(torch.multinomial(logp_all.detach().exp(), 1).item())
        return action, logp_all[action]

    return sample_action


def set_module_attr(module: str, name: str, value) -> object:
    """Replace ``module.name`` in the worker; returns the previous value (to restore it)."""
    import importlib

    mod = importlib.import_module(module)
    old = getattr(mod, name, None)
    setattr(mod, name, value)
    return old


def echo(value):
    """Return the value unchanged (used to measure the channel's own cost)."""
    return value


def grader_code(sources: list, module: str, function: str, *args, **kwargs):
    """Run ``module.function(*args, **kwargs)`` of grader code sent as source text.

    ``sources`` is ``[[dotted_name, source], ...]`` in dependency order. Each is executed
    as a fresh module registered under its dotted name (parent packages become empty
    stubs that import nothing from disk), so grader code (e.g. the capstone's model and
    trainer) runs next to the student's functions without the worker importing any of
    the grader's files. The caller re-checks whatever comes back.
    """
    for name, source in sources:
        parts = name.split(".")
        for i in range(1, len(parts)):
            pkg = ".".join(parts[:i])
            if pkg not in sys.modules:
                stub = types.ModuleType(pkg)
                stub.__path__ = []  # a package whose submodules come only from sys.modules
                sys.modules[pkg] = stub
        mod = types.ModuleType(name)
        mod.__file__ = f"/grader/{name.replace('.', '/')}.py"
        sys.modules[name] = mod  # before exec: dataclasses look their module up
        exec(compile(source, mod.__file__, "exec"), mod.__dict__)  # noqa: S102
        if len(parts) > 1:
            setattr(sys.modules[".".join(parts[:-1])], parts[-1], mod)
    return getattr(sys.modules[module], function)(*args, **kwargs)


PROBES = {
    "grad": grad,
    "inputs_after": inputs_after,
    "seed": seed,
    "mlp": mlp,
    "scripted_policy": scripted_policy,
    "recorded_inputs": recorded_inputs,
    "corridor": standins.corridor,
    "grid_model": standins.grid_model,
    "recorded_actions": standins.recorded_actions,
    "optimizer": optimizer,
    "log_probs": log_probs,
    "parameters": parameters,
    "set_parameters": set_parameters,
    "echo": echo,
    "set_grads": set_grads,
    "sampler": sampler,
    "set_module_attr": set_module_attr,
    "grader_code": grader_code,
}
