import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from simulation.simulator import simulator_run


class Command(BaseCommand):
    help = "Run the simulator process: live plant values for every sandbox that has viewers. Stops on SIGINT/SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ticks", type=int, default=None, help="stop after this many ticks (default: run forever)")

    def handle(self, *args: Any, ticks: int | None, **options: Any) -> None:
        asyncio.run(simulator_run(ticks=ticks))
        self.stdout.write("simulator stopped")
