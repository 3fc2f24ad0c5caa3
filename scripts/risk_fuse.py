#!/usr/bin/env python3
"""risk.fuse: fuse the pulled layers into daily risk layers and a monthly summary."""

from __future__ import annotations

import click

from arcticroute.cli import common_options, execute, load_or_exit, ym_option
from arcticroute.parallel import jobs_option
from arcticroute.risk.calibration import skill_interval_text
from arcticroute.risk.fuse import FALLBACKS, METHODS, fuse_month


@click.command(name="risk.fuse")
@ym_option
@click.option("--method", type=click.Choice(METHODS), default=None,
              help="How hazards combine; default from config/runtime.yaml (risk.method).")
@click.option("--fallback", type=click.Choice(FALLBACKS), default=None,
              help="With --method stacking: fuse with this method when there are too few incidents to learn "
                   "from, instead of exiting 1 (the sidecars and the report say so).")
@click.option("--force", is_flag=True, help="Fuse every day again, even when its inputs are unchanged.")
@jobs_option("read, fuse, write; the summary and the catalog are written by the parent")
@common_options
def main(ym, method, fallback, force, jobs, executor, scheduler, config_dir, profile, grid_km):
    """Fuse sea ice, waves, traffic and incidents into a 0..1 risk layer per day.

    Only days with sea-ice input are fused; days whose inputs are unchanged and whose risk
    layer is intact are skipped. Inputs are verified against their sidecars as they are read:
    a day with a missing or corrupt input is not fused and the run exits 1 naming it.
    Writes data_processed/risk/<grid>/YYYY/MM/risk_YYYYMMDD.nc and risk_YYYYMM.nc.

    --method stacking first fits a Poisson model of the incident rate per vessel-hour on the
    months before (risk.stacking in config/runtime.yaml), scores it on held-out months (Brier
    skill with a 95 % block-bootstrap interval by day) and writes it as
    data_processed/risk/<grid>/models/stacking_YYYYMM.json; too few incidents to learn from
    exits 1 saying how many were found and how many are needed, unless --fallback weighted.
    """
    settings = load_or_exit(config_dir, profile, grid_km)

    def body(run):
        counts = fuse_month(settings, *ym, method, run, force=force, fallback=fallback, jobs=jobs,
                                 executor=executor, scheduler=scheduler)
        run.summary = counts
        return counts

    def render(counts, run):
        click.echo(
            f"risk {ym[0]:04d}-{ym[1]:02d}: {counts['written']} days written, {counts['unchanged']} unchanged, "
            f"{counts['no-inputs']} without inputs, {counts['refused']} refused; monthly summary {counts['monthly']} (run {run.run_id})"
        )
        if "model" in counts:
            model = counts["model"]
            weights = ", ".join(f"{k} {v:+.2f}" for k, v in model["coefficients"].items())
            click.echo(f"stacking model {model['logical_id']} v{model['version']}: {weights}; held-out Brier skill "
                       f"{model['heldout_brier_skill']:.4f}, {skill_interval_text(model['heldout_brier_skill_interval'])} "
                       f"(weighted {model['weighted_heldout_brier_skill']:.4f})")
        if counts.get("fallback"):
            click.echo(f"NOTE: too few incidents for stacking: fused with {counts['fallback']} (--fallback)")

    execute(settings, "risk.fuse", "fuse", body, render, writes=True)


if __name__ == "__main__":
    main()
