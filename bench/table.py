"""The one way the benchmarks print their results: a Markdown table for docs/benchmarks.md."""

from __future__ import annotations


def print_table(rows: list[tuple[str, str]], footer: str) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"| {'measurement'.ljust(width)} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    print(f"\n{footer}")
