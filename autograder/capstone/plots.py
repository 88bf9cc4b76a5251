"""One PNG per run: reward, true (held-out) accuracy and KL per step (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path


def plot_runs(
    runs: dict[str, object],
    title: str,
    path: Path,
    reward_label: str,
    kl_label: str = "KL to SFT (k3, per token)",
) -> Path:
    """Draws one or more curves (one per label, e.g. ``kl_coef=0`` and ``kl_coef=0.1``).

    Args:
        runs: label -> a curve with ``steps``, ``reward``, ``kl``, ``eval_steps``,
            ``accuracy`` lists.
        title: the figure title.
        path: the PNG to write (its folder is created).
        reward_label: the y label of the reward panel.
        kl_label: the y label of the KL panel.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for label, c in runs.items():
        axes[0].plot(c.steps, c.reward, label=label, alpha=0.8)
        axes[1].plot(c.eval_steps, [100 * a for a in c.accuracy], marker="o", label=label)
        axes[2].plot(c.steps, c.kl, label=label, alpha=0.8)
    for ax, ylabel in zip(
        axes, (reward_label, "held-out accuracy (%), T=1", kl_label), strict=True
    ):
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    if len(runs) > 1:
        axes[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
