from __future__ import annotations

from django.core.management.base import BaseCommand

from prophecy import selectors, services


class Command(BaseCommand):
    help = "Forecast demand per district and service type for the coming weeks; print the table."

    def add_arguments(self, parser):
        parser.add_argument("--folds", type=int, default=3)

    def handle(self, *args, **opts):
        result = services.forecast_run(folds=opts["folds"])
        self.stdout.write(" ".join(f"{k}={v}" for k, v in result.items()))
        rows = selectors.prediction_list_upcoming()
        self.stdout.write(f"{'district':<16}{'type':<14}{'week':<12}{'jobs':>7}{'80% interval':>15}{'demand':>8}"
                          f"{'conf':>6}{'MASE':>6}{'SN':>6} hot")
        for p in rows:
            mase = f"{p.mase:.2f}" if p.mase is not None else "-"
            naive = f"{p.seasonal_naive_mase:.2f}" if p.seasonal_naive_mase is not None else "-"
            interval = f"{p.forecast_low:.1f}-{p.forecast_high:.1f}"
            self.stdout.write(
                f"{p.district.name:<16}{p.service_type:<14}{p.week_start.isoformat():<12}{p.forecast_jobs:>7.1f}"
                f"{interval:>15}{p.predicted_demand:>8.2f}{p.confidence:>6.2f}{mase:>6}{naive:>6} "
                f"{'*' if p.is_hotspot else ''}"
            )
