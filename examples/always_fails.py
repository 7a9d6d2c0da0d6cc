"""Deliberately fail with a clear error to show how a failed script looks.

The script pretends to check an invoice: it prints a few progress lines, adds
up the line items and then raises a ValueError because the total printed on
the invoice does not match. The exception is left uncaught on purpose, so
Python prints a traceback to stderr and exits with a non-zero status (1),
exactly like a real bug would. Use it to see how ScriptBatch reports failures
and how "stop on failure" affects the rest of a batch.

Usage:
    python always_fails.py
"""

import argparse
from decimal import Decimal

# (description, quantity, unit price). Decimal avoids floating-point rounding with money.
LINE_ITEMS = [
    ("Printer paper, A4, box", 3, Decimal("12.50")),
    ("Toner cartridge", 1, Decimal("54.00")),
    ("Desk lamp", 1, Decimal("27.00")),
]
INVOICE_NUMBER = "INV-2024-0042"
INVOICE_TOTAL = Decimal("120.00")  # what the supplier printed on the invoice


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description="Deliberately fail with a clear error to show how a failed script looks.",
    ).parse_args(argv)

    print(f"Checking invoice {INVOICE_NUMBER}...", flush=True)
    subtotal = Decimal("0.00")
    for description, quantity, unit_price in LINE_ITEMS:
        amount = quantity * unit_price
        subtotal += amount
        print(f"  {description:<24} {quantity} x {unit_price:>6} = {amount:>7}", flush=True)
    print(f"Line items add up to {subtotal}; invoice says {INVOICE_TOTAL}.", flush=True)

    if subtotal != INVOICE_TOTAL:
        # Not caught anywhere: this is the failure the demo is about.
        raise ValueError(f"invoice total does not match line items: {INVOICE_TOTAL} != {subtotal}")
    print("Invoice OK.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
